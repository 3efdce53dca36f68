import CNI
import FlannelCNI

// The CNI face only: the node daemon is swift-flanneld.
Dispatcher.main(FlannelCNIPlugin())
