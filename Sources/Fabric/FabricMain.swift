import CNI
#if canImport(Glibc)
import Glibc
#endif

/// The entry point of `flannel-vxlan` and `host-gw`: `<exe> agent [flags]` runs the node
/// agent; anything else is a CNI invocation (the runtime passes no arguments).
public enum FabricMain {
    public static func main(kind: BackendKind) -> Never {
        let args = CommandLine.arguments
        if args.count >= 2 && args[1] == "agent" {
            do {
                let options = try AgentOptions(arguments: Array(args.dropFirst(2)))
                exit(Agent(options: options, kind: kind).run())
            } catch {
                StandardIO.write("\(error)\n", fd: 2)
                exit(2)
            }
        }
        Dispatcher.main(FlannelCNIPlugin())
    }
}
