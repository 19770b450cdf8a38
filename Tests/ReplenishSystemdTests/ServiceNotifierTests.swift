import Foundation
import ReplenishSystemd
import ReplenishTestSupport
import Testing

@Suite("sd_notify protocol")
struct ServiceNotifierTests {
    @Test("ready, status, watchdog, reloading and stopping reach the notification socket as systemd expects")
    func messagesArrive() throws {
        let socket = try NotificationListener()
        let notifier = ServiceNotifier(environment: ["NOTIFY_SOCKET": socket.path])

        #expect(notifier.ready(status: "broker connecting\noutbox 0"))
        #expect(socket.receive() == "READY=1\nSTATUS=broker connecting outbox 0")
        #expect(notifier.status("outbox 3"))
        #expect(socket.receive() == "STATUS=outbox 3")
        #expect(notifier.watchdog())
        #expect(socket.receive() == "WATCHDOG=1")
        #expect(notifier.reloading(status: "reloading"))
        #expect(socket.receive() == "RELOADING=1\nSTATUS=reloading")
        #expect(notifier.stopping())
        #expect(socket.receive() == "STOPPING=1")
    }

    @Test("the environment names the socket")
    func environmentSocket() throws {
        let socket = try NotificationListener()
        #expect(ServiceNotifier(environment: ["NOTIFY_SOCKET": socket.path]).ready())
        #expect(socket.receive() == "READY=1")
    }

    @Test("outside systemd nothing is sent and nothing fails")
    func outsideSystemd() {
        #expect(ServiceNotifier(environment: [:]).ready() == false)
        #expect(ServiceNotifier(environment: ["NOTIFY_SOCKET": "relative"]).ready() == false)
        #expect(ServiceNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent/notify"]).watchdog() == false)
    }

    @Test("WATCHDOG_USEC applies to this process only", arguments: [
        (["WATCHDOG_USEC": "20000000"], 20.0),
        (["WATCHDOG_USEC": "500000", "WATCHDOG_PID": "\(getpid())"], 0.5),
        (["WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1"], nil),
        (["WATCHDOG_USEC": "0"], nil),
        (["WATCHDOG_USEC": "soon"], nil),
        ([:], nil),
    ] as [([String: String], Double?)])
    func watchdogInterval(environment: [String: String], expected: Double?) {
        #expect(ServiceNotifier(environment: environment).watchdogInterval == expected)
    }
}
