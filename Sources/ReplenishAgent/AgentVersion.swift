/// The version every message carries as `agentVersion`, `replenishd --version` prints and the
/// .deb is named after (packaging/build-deb.sh reads it from this file).
public enum AgentVersion {
    public static let current = "0.1.0"
}
