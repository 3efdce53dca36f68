import Attach
import CNI

Dispatcher.main(BridgePlugin())
