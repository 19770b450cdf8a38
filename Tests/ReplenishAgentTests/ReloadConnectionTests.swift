import Foundation
import Synchronization
import Testing

/// A reload that leaves the `mqtt` settings and the database alone keeps the broker connection:
/// the cloud sees neither a second `online` nor a `startup` report for it.
@Suite("SIGHUP reload keeps the connection", .serialized)
struct ReloadConnectionTests {
    @Test("changing a threshold keeps the connection and sends no startup report")
    func thresholdOnly() async throws {
        let run = try await ReloadTests.Running(device: "reload-keep")
        let availability = "replenish/v1/reload-keep/availability"
        let subscriber = run.subscriber
        let onlines: @Sendable () -> Int = {
            subscriber.rawMessages.filter { $0.topic == availability && $0.payload == "online" }.count
        }
        let startups: @Sendable () -> Int = { subscriber.messages.filter { $0.reason == "startup" }.count }
        try await run.subscriber.waitFor("the startup report and another") { $0.compactMap(ReloadTests.status).count >= 2 }
        try await waitUntil("online announced") { onlines() == 1 }
        #expect(startups() == 1)
        let before = try #require(run.reports.last).configHash

        let config = try String(contentsOfFile: run.configPath, encoding: .utf8)
        let changed = config.replacingOccurrences(of: "    capacity: 1800\n", with: "    capacity: 1800\n    low_threshold: 20%\n")
        #expect(changed != config)
        try changed.write(toFile: run.configPath, atomically: true, encoding: .utf8)
        kill(run.process.processIdentifier, SIGHUP)
        #expect(await run.notify.next(where: { $0.hasPrefix("RELOADING=1") }, within: 60) != nil)
        #expect(await run.notify.next(where: { $0.hasPrefix("READY=1") }, within: 60) != nil)
        try await run.subscriber.waitFor("two reports with the new config") { messages in
            messages.compactMap(ReloadTests.status).filter { $0.configHash != before }.count >= 2
        }
        #expect(onlines() == 1, "the broker saw the device reconnect")
        #expect(startups() == 1, "a reload sent a startup report")
        #expect(run.stderr.contains("configuration reloaded"), "\(run.stderr)")
        run.stop()
        #expect(run.process.terminationStatus == 0)
        let seqs = run.subscriber.distinctSeqs
        #expect(seqs == Array(1...UInt64(seqs.count)), "seq must continue without gaps or repeats")
    }

    @Test("commands sent around a reload that keeps the connection are all answered")
    func commandsDuringTheSwap() async throws {
        let run = try await ReloadTests.Running(device: "reload-commands")
        try await run.subscriber.waitFor("a report") { $0.compactMap(ReloadTests.status).count >= 1 }
        let config = try String(contentsOfFile: run.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "    capacity: 1800\n", with: "    capacity: 1800\n    low_threshold: 10%\n")
            .write(toFile: run.configPath, atomically: true, encoding: .utf8)
        // A stream of commands from before the reload until it is done (at most 400), so that
        // some reach the daemon while no generation is listening.
        let subscriber = run.subscriber
        let sent = Mutex(0)
        let stop = Mutex(false)
        let sender = Task {
            while !stop.withLock({ $0 }), sent.withLock({ $0 }) < 400 {
                let id = "swap-\(sent.withLock { $0 })"
                do {
                    _ = try subscriber.client.publish(topic: "replenish/v1/reload-commands/commands/reportNow",
                                                      payload: Array(#"{"correlationId":"\#(id)"}"#.utf8), qos: 1, retain: false)
                    sent.withLock { $0 += 1 }
                } catch {
                    // Seen once in a loaded full run: the test's own client was between connections.
                    // The daemon is what is tested; the command goes again once it is back.
                    print("sender: \(error); sending \(id) again")
                    try await Task.sleep(for: .milliseconds(20))
                }
                await Task.yield()
            }
        }
        try await waitUntil("a first command out") { sent.withLock { $0 } >= 1 }
        let pid = run.process.processIdentifier
        kill(pid, SIGHUP)
        let hup = ContinuousClock.now
        var answered = await run.notify.next(where: { $0.hasPrefix("RELOADING=1") }, within: 10)
        if answered == nil {
            // Seen in 1 of about 25 loaded full runs (twice in CI): no RELOADING=1 for 20-50 s after
            // the SIGHUP. Likely this process, not the daemon: the demo tests blocked both
            // cooperative threads (two cores) in a synchronous wait for 20 s and more, so this
            // wait could not run until its deadline had passed; they await the exit now. Should
            // it happen again, what the kernel holds pending for the daemon says whether the signal
            // was read at all; the test asks again and reports what it saw.
            let pending = ((try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? "")
                .split(separator: "\n").filter { $0.hasPrefix("SigPnd") || $0.hasPrefix("ShdPnd") || $0.hasPrefix("SigBlk") }
            print("no RELOADING=1 within 10 s of SIGHUP (\(pending.joined(separator: ", "))); sent \(sent.withLock { $0 }); "
                  + "SIGHUP again\n\(run.stderr.suffix(2000))")
            kill(pid, SIGHUP)
            answered = await run.notify.next(where: { $0.hasPrefix("RELOADING=1") }, within: 60)
        }
        #expect(answered != nil,
                "sent \(sent.withLock { $0 }), replies \(subscriber.messages.filter { $0.topic.hasSuffix("/replies") }.count)\n\(run.stderr.suffix(3000))")
        let reloading = ContinuousClock.now - hup
        #expect(await run.notify.next(where: { $0.hasPrefix("READY=1") }, within: 60) != nil)
        print("reload under a command stream: RELOADING after \(reloading), READY after \(ContinuousClock.now - hup), \(sent.withLock { $0 }) sent")
        stop.withLock { $0 = true }
        try await sender.value
        let ids = (0..<sent.withLock { $0 }).map { "\"swap-\($0)\"" }
        try await subscriber.waitFor("a reply to every command", within: .seconds(60)) { messages in
            let replies = Set(messages.filter { $0.topic.hasSuffix("/replies") }.compactMap { message in
                ids.first { message.json.contains($0) }
            })
            return replies.count == ids.count
        }
        #expect(run.stderr.contains("configuration reloaded"), "\(run.stderr)")
        run.stop()
        #expect(run.process.terminationStatus == 0)
    }

    @Test("changing the mqtt settings reconnects with them")
    func mqttChanged() async throws {
        let run = try await ReloadTests.Running(device: "reload-reconnect")
        try await run.subscriber.waitFor("a report") { $0.compactMap(ReloadTests.status).count >= 1 }
        let config = try String(contentsOfFile: run.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "mqtt:\n", with: "mqtt:\n  keepalive: 30s\n")
            .write(toFile: run.configPath, atomically: true, encoding: .utf8)
        kill(run.process.processIdentifier, SIGHUP)
        let availability = "replenish/v1/reload-reconnect/availability"
        try await waitUntil("a second online") {
            run.subscriber.rawMessages.filter { $0.topic == availability && $0.payload == "online" }.count == 2
        }
        #expect(!run.subscriber.rawMessages.contains { $0.topic == availability && $0.payload == "offline" })
        let count = run.reports.count
        try await run.subscriber.waitFor("reports after the reconnect") { $0.compactMap(ReloadTests.status).count >= count + 2 }
        // The daemon's stop still says `offline` on the connection the reload made.
        kill(run.process.processIdentifier, SIGTERM)
        run.process.waitUntilExit()
        let subscriber = run.subscriber
        try await waitUntil("offline at the stop") {
            subscriber.rawMessages.last { $0.topic == availability }?.payload == "offline"
        }
        run.stop()
        #expect(run.process.terminationStatus == 0)
    }
}
