/// A response whose headers have arrived; the body is read incrementally (etcd's watch
/// never ends on its own), decoding chunked transfer encoding on the way.
final class HTTPStream {
    let status: Int
    let headers: [(name: String, value: String)]
    private let connection: HTTPConnection
    private enum Framing { case length(Int), chunked, untilClose, done }
    private var framing: Framing
    /// Bytes left in the current chunk; -1 before the first chunk header.
    private var chunkLeft = -1

    init(connection: HTTPConnection, deadline: Double) throws(HTTPError) {
        self.connection = connection
        let statusLine = try connection.readLine(deadline: deadline)
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]) else {
            throw HTTPError(endpoint: connection.endpoint, kind: .protocolError,
                            reason: "not an HTTP/1.x response: \"\(statusLine.prefix(80))\"")
        }
        var headers: [(name: String, value: String)] = []
        while true {
            let line = try connection.readLine(deadline: deadline)
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            headers.append((line[..<colon].lowercased(), String(value)))
        }
        status = code
        self.headers = headers
        if headers.contains(where: { $0.name == "transfer-encoding" && $0.value.lowercased().contains("chunked") }) {
            framing = .chunked
        } else if let length = headers.first(where: { $0.name == "content-length" }).flatMap({ Int($0.value) }) {
            framing = .length(length)
        } else {
            framing = (code == 204 || code == 304) ? .done : .untilClose
        }
    }

    func close() { connection.close() }

    /// The next piece of the body, nil at its end. Throws `.timeout` when nothing arrives
    /// before `deadline` (the stream stays usable).
    func nextBytes(deadline: Double) throws(HTTPError) -> [UInt8]? {
        while true {
            switch framing {
            case .done:
                return nil
            case .length(let left):
                if left == 0 { framing = .done; return nil }
                if connection.buffer.isEmpty, try !connection.fill(deadline: deadline) {
                    throw broken("connection closed with \(left) body bytes missing")
                }
                let piece = take(min(left, connection.buffer.count))
                framing = .length(left - piece.count)
                return piece
            case .untilClose:
                if connection.buffer.isEmpty, try !connection.fill(deadline: deadline) {
                    framing = .done
                    return nil
                }
                return take(connection.buffer.count)
            case .chunked:
                if chunkLeft <= 0 {
                    if chunkLeft == 0 {
                        _ = try connection.readLine(deadline: deadline)  // the CRLF after chunk data
                        chunkLeft = -1  // so a timeout below does not make the next call skip a line
                    }
                    let line = try connection.readLine(deadline: deadline)
                    let sizeText = line.split(separator: ";").first.map { $0.trimmingCharacters(in: " ") } ?? ""
                    guard let size = Int(sizeText, radix: 16), size >= 0 else {
                        throw broken("bad chunk size line \"\(line.prefix(40))\"")
                    }
                    if size == 0 {
                        while try !connection.readLine(deadline: deadline).isEmpty {}  // trailers
                        framing = .done
                        return nil
                    }
                    chunkLeft = size
                }
                if connection.buffer.isEmpty, try !connection.fill(deadline: deadline) {
                    throw broken("connection closed inside a chunk")
                }
                let piece = take(min(chunkLeft, connection.buffer.count))
                chunkLeft -= piece.count
                return piece
            }
        }
    }

    private func take(_ n: Int) -> [UInt8] {
        let piece = Array(connection.buffer[..<n])
        connection.buffer.removeFirst(n)
        return piece
    }

    private func broken(_ reason: String) -> HTTPError {
        HTTPError(endpoint: connection.endpoint, kind: .protocolError, reason: reason)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
