import Fabric

FabricMain.main(kind: .vxlan)
