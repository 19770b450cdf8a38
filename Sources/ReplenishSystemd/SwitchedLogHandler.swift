import Logging

/// What our two log handlers share: the process-wide level switch and metadata merging.
protocol SwitchedLogHandler: LogHandler {
    var levels: LogLevelSwitch { get }
}

extension SwitchedLogHandler {
    /// The shared level; setting it changes the configured level for every handler.
    public var logLevel: Logger.Level {
        get { levels.level }
        set { levels.configure(newValue) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The handler's metadata, the provider's, then the event's own, later ones winning.
    func merged(_ event: LogEvent) -> Logger.Metadata {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        return merged
    }
}
