import Foundation
import Glibc
@testable import ReplenishStore
import Testing
import ReplenishTestSupport

/// A real small file system (tmpfs), so SQLite meets a real ENOSPC. Mounting needs root, which
/// `make test` has in CI and on the board image builders.
final class SmallFileSystem {
    let path: String

    init(kibibytes: Int) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("small-fs-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(kibibytes)k,mode=0700") == 0 else {
            throw POSIXError(.init(rawValue: errno) ?? .EPERM)
        }
    }

    /// Fills every free byte with a file of its own.
    func fill(name: String = "filler") {
        let fd = open(path + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(fd) }
        let block = [UInt8](repeating: 0xA5, count: 4096)
        while write(fd, block, block.count) > 0 {}
        var byte: UInt8 = 0
        while write(fd, &byte, 1) > 0 {}
    }

    deinit {
        umount2(path, Int32(MNT_DETACH))
        rmdir(path)
    }
}

@Suite("a full disk", .serialized, .enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
struct DiskFullTests {
    @Test("the reserve gives a full disk back enough room to evict and to commit again")
    func reserveRescuesAFullDisk() throws {
        let fs = try SmallFileSystem(kibibytes: 1024)
        let store = try StateStore(path: fs.path + "/state.db")
        #expect(store.ensureReserve())
        #expect(store.hasReserve)
        for _ in 1...20 { try store.enqueueOne(payload: [UInt8](repeating: 7, count: 2000)) }
        fs.fill()

        // Nothing fits any more.
        var failure: StoreError?
        for _ in 1...50 where failure == nil {
            do { try store.enqueueOne(payload: [UInt8](repeating: 8, count: 2000)) } catch { failure = error as? StoreError }
        }
        #expect(failure?.code == .diskFull)
        let queued = try store.outboxStats().count

        #expect(store.releaseSpace())
        #expect(!store.hasReserve)
        #expect((store.availableBytes ?? 0) >= StateStore.reserveBytes / 2)
        let evicted = try store.commit { tx in try tx.evictOldest(kind: .status, toFitBytes: 10 * 2000) }
        #expect(!evicted.isEmpty)
        try store.enqueueOne(payload: [UInt8](repeating: 9, count: 2000))
        #expect(try store.outboxStats().count == queued - evicted.count + 1)
        #expect(try SQLiteFile.integrityCheck(path: store.path) == "ok")

        // No room for the reserve until space returns.
        fs.fill(name: "filler-2")
        #expect(!store.ensureReserve())
        unlink(fs.path + "/filler")
        unlink(fs.path + "/filler-2")
        #expect(store.ensureReserve())
    }
}
