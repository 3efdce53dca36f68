import FlannelAgent

await FlanneldCommand.start()
