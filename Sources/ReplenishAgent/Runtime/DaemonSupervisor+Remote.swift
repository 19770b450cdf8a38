import FoundationEssentials
import Logging
import ReplenishSystemd

// The supervisor's side of remote configuration: deciding on a desired document, keeping its
// overlay, answering on `{base}/config/reported`, and going back after a failed connection change.

extension DaemonSupervisor {
    /// The configuration `payload` asks for, once its overlay is kept; nil when it is refused (and
    /// answered so) or in force already (answered `applied` again: a power cut may have come
    /// between keeping the overlay and queueing the answer).
    func accept(_ payload: [UInt8], inForce config: AgentConfig,
                        uplink link: Uplink) async -> (AgentConfig, version: Int)? {
        switch DesiredConfig.evaluate(payload, configPath: configPath, inForce: config) {
        case let .rejected(version, problems):
            logger.error("remote configuration rejected; the running configuration stays", metadata: [
                JournalMessageID.metadataKey: .string(JournalMessageID.configRejected.rawValue),
                "version": "\(version.map(String.init) ?? "unreadable")", "problems": "\(problems.count)",
            ])
            for problem in problems { logger.error("\(problem)") }
            await answer(.rejected, version: version, problems: problems, payload: payload, config: config, uplink: link)
            return nil
        case let .inForce(version):
            await answer(.applied, version: version, problems: [], payload: payload, config: config, uplink: link)
            return nil
        case var .accepted(candidate, document):
            let overlay = RemoteOverlay.path(for: candidate)
            // A connection change is tentative until a connection with it confirms it.
            candidate.remoteTentative = candidate.mqtt != config.mqtt
            // Kept before it is applied: a restart after this point starts on it.
            let kept = await BlockingQueue.offPool("replenishd.overlay") { [tentative = candidate.remoteTentative, text = document.text] in
                Result {
                    if tentative { try RemoteOverlay.writeTentative(text, to: overlay) } else {
                        try RemoteOverlay.write(text, to: overlay)
                    }
                }
            }
            if case let .failure(error) = kept {
                let problem = ConfigDiagnostic(file: overlay, line: 1, column: 1, keyPath: "", message: "cannot keep the overlay: \(error)")
                logger.error("remote configuration not applied", metadata: ["version": "\(document.version)", "error": "\(error)"])
                await answer(.rejected, version: document.version, problems: [problem], payload: payload, config: config, uplink: link)
                return nil
            }
            return (candidate, document.version)
        }
    }

    /// Queues the answer on `{base}/config/reported`; a failure is logged (the retained document
    /// comes again with the next connection, and is answered then).
    func answer(_ status: ConfigReported.Status, version: Int?, problems: [ConfigDiagnostic], reason: String? = nil,
                        payload: [UInt8], config: AgentConfig, uplink link: Uplink? = nil) async {
        guard let link = link ?? uplink.withLock({ $0 }) else { return }
        do {
            try await ConfigReported.queue(status, version: version, problems: problems, reason: reason, payload: payload, config: config,
                                           uplink: link, clock: clock,
                                           trust: trust ?? KernelClockTrust.forDevice(hasRTC: config.device.hasRTC))
            logger.notice("remote configuration \(status.rawValue)", metadata: [
                "version": "\(version.map(String.init) ?? "unreadable")", "config": "\(config.configHash)",
            ])
        } catch {
            logger.error("could not queue the answer to a desired configuration", metadata: ["error": "\(error)"])
        }
    }

    /// The configuration that last connected, put back in force on disk first: the previous
    /// overlay over the file, else the file alone, else (a file now broken) the one running.
    func rollBack(from tentative: AgentConfig) -> AgentConfig {
        do {
            try RemoteOverlay.rollBack(RemoteOverlay.path(for: tentative))
            return try RemoteOverlay.loadInForce(configPath: configPath).config
        } catch {
            logger.error("could not restore the configuration that last connected", metadata: ["error": "\(error)"])
            var kept = tentative
            kept.remoteTentative = false
            return kept
        }
    }

    /// The uplink, waiting a little while a generation is opening a new one (after a reload that
    /// changed the connection): a document that came with the old connection is not dropped.
    func currentUplink() async -> Uplink? {
        for _ in 0..<200 {
            if let link = uplink.withLock({ $0 }) { return link }
            guard (try? await Task.sleep(for: .milliseconds(50))) != nil else { return nil }
        }
        return nil
    }
}
