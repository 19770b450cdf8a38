import Foundation
import Synchronization
import Testing
@testable import ReplenishStore

@Suite("concurrency")
struct ConcurrencyTests {
    @Test("commits from 8 threads x 50 each get 400 distinct consecutive seqs")
    func concurrentCommits() throws {
        try withStore { store, _ throws in
            let threads = 8, commitsPerThread = 50
            let issued = Mutex<[UInt64]>([])
            let failures = Mutex<[String]>([])
            let done = DispatchGroup()
            for thread in 0..<threads {
                done.enter()
                Thread {
                    defer { done.leave() }
                    do {
                        for _ in 0..<commitsPerThread {
                            let seq = try store.enqueueOne(topic: "thread/\(thread)")
                            issued.withLock { $0.append(seq) }
                        }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }.start()
            }
            done.wait()

            #expect(failures.withLock { $0 } == [])
            #expect(issued.withLock { $0.sorted() } == Array(1...UInt64(threads * commitsPerThread)))
            #expect(try store.outboxStats().count == threads * commitsPerThread)
            #expect(try store.loadState().lastSeq == UInt64(threads * commitsPerThread))
        }
    }
}
