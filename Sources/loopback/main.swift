import Attach
import CNI

Dispatcher.main(LoopbackPlugin())
