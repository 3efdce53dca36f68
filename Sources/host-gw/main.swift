import Fabric

FabricMain.main(kind: .hostGW)
