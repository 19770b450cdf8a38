extension StringProtocol {
    /// The text without its leading and trailing characters that satisfy `predicate`
    /// (`\.isNewline` for what a file's last line ends with).
    func trimmingEnds(where predicate: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !predicate($0) }), let last = lastIndex(where: { !predicate($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
