import CNI
import IPAM

Dispatcher.main(HostLocalPlugin())
