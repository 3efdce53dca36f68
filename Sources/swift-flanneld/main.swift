import FlannelAgent

await FlanneldCommand.main()
