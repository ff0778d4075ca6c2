import CityAuthFFI
import Foundation

/// Sends the core's requests through `URLSession`, so that the platform's trust store, the
/// CAs an MDM profile installed and the system's proxies apply. Redirects are refused: a 3xx
/// comes back to the core as the response, which reports it as the server's refusal. Blocks
/// the calling thread (the core calls it off the main thread) until the whole response is in.
public final class URLSessionTransport: HostHttpTransport {
    private let session: URLSession
    private let maxBodyBytes: Int

    /// A transport whose requests time out after `timeout` seconds (longer than the server's
    /// 25-second long poll) and whose responses are at most `maxBodyBytes`.
    public init(timeout: TimeInterval = 40, maxBodyBytes: Int = 1 << 20) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.httpCookieAcceptPolicy = .never
        configuration.urlCache = nil
        self.session = URLSession(
            configuration: configuration, delegate: RefuseRedirects(), delegateQueue: nil)
        self.maxBodyBytes = maxBodyBytes
    }

    public func send(request: HostHttpRequest) throws -> HostHttpResponse {
        guard let url = URL(string: request.url) else {
            throw HostHttpError.Failed(reason: "bad URL")
        }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        urlRequest.setValue("application/json", forHTTPHeaderField: "content-type")
        for header in request.headers {
            urlRequest.setValue(header.value, forHTTPHeaderField: header.name)
        }
        if !request.body.isEmpty {
            urlRequest.httpBody = request.body
        }
        let outcome = Outcome()
        let task = session.dataTask(with: urlRequest) { data, response, error in
            outcome.finish(data: data, response: response, error: error)
        }
        task.resume()
        return try outcome.wait(maxBodyBytes: maxBodyBytes)
    }
}

/// Declines every redirect: the 3xx response itself is delivered.
private final class RefuseRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask,
        willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
        completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

/// One request's result, handed from URLSession's queue to the waiting caller.
private final class Outcome: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var data: Data?
    private var response: URLResponse?
    private var error: Error?

    func finish(data: Data?, response: URLResponse?, error: Error?) {
        lock.lock()
        self.data = data
        self.response = response
        self.error = error
        lock.unlock()
        done.signal()
    }

    func wait(maxBodyBytes: Int) throws -> HostHttpResponse {
        done.wait()
        lock.lock()
        defer { lock.unlock() }
        if let error {
            throw HostHttpError.Failed(reason: "\(type(of: error)): \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse, let status = UInt16(exactly: http.statusCode)
        else {
            throw HostHttpError.Failed(reason: "no HTTP response")
        }
        let body = data ?? Data()
        if body.count > maxBodyBytes {
            throw HostHttpError.Failed(reason: "the response is larger than \(maxBodyBytes) bytes")
        }
        return HostHttpResponse(status: status, body: body)
    }
}
