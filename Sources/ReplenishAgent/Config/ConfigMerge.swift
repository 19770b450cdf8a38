import FoundationEssentials

// A desired document merged over the file's node tree, before decoding: the merged tree is read
// as one file would be, so a remote value is checked exactly as `check` checks a local one, and
// a problem with it is reported where it stands in the desired document (`Mark.inDesired`).

extension ConfigReader {
    /// `overrides` over `base`: mappings key by key, the slots by their `id`, anything else replaced.
    mutating func merge(_ base: Node, _ overrides: Node, at path: ConfigKeyPath) -> Node {
        guard case let .mapping(baseMapping) = base, case let .mapping(overMapping) = overrides else { return overrides }
        var pairs = baseMapping.pairs
        for (key, value) in overMapping {
            let name = key.scalar?.string ?? ""
            let keyPath = path.appending(name)
            guard let index = pairs.firstIndex(where: { $0.key.scalar?.string == name }) else {
                pairs.append((key, value))
                continue
            }
            if keyPath.description == "slots" {
                pairs[index].value = mergeSlots(pairs[index].value, value, at: keyPath)
            } else if case .mapping = pairs[index].value, case .mapping = value {
                pairs[index].value = merge(pairs[index].value, value, at: keyPath)
            } else {
                pairs[index] = (key, value)
            }
        }
        // New keys go at the end: the file's repeated-key indices stay right.
        return .mapping(Node.Mapping(pairs: pairs, repeats: baseMapping.repeats, mark: baseMapping.mark))
    }

    /// Each desired slot names a slot of the file by `id` and overrides some of its keys; the
    /// cloud cannot add or remove a slot (a slot is hardware on the board).
    private mutating func mergeSlots(_ base: Node, _ overrides: Node, at path: ConfigKeyPath) -> Node {
        guard case let .sequence(desired) = overrides else {
            report("expected a sequence of slots, each naming the slot it changes by 'id', got \(overrides.summary)",
                   at: overrides, path)
            return base
        }
        guard case let .sequence(fileSlots) = base else { return base }
        var slots = Array(fileSlots)
        let ids = slots.map { $0["id"]?.scalar?.string }
        var merged: [Int: Int] = [:]
        for (index, element) in desired.enumerated() {
            let elementPath = path.appending(index: index)
            guard case .mapping = element else {
                report("expected a mapping naming the slot it changes by 'id', got \(element.summary)", at: element, elementPath)
                continue
            }
            guard let idNode = element["id"], let id = idNode.scalar?.string, !idNode.isNull else {
                report("missing required key 'id' (the slot of the local file to change)", at: element, elementPath)
                continue
            }
            guard let target = ids.firstIndex(of: id) else {
                let known = ids.compactMap { $0 }.joined(separator: ", ")
                report("no slot '\(id)' in the local file (its slots: \(known)); the cloud changes slots, it cannot add one",
                       at: idNode, elementPath.appending("id"))
                continue
            }
            if let first = merged[target] {
                report("slot '\(id)' is given twice (first as slots[\(first)])", at: idNode, elementPath.appending("id"))
                continue
            }
            merged[target] = index
            desiredSlotIndex[target] = index
            // The selector stays the file's own: the slot's id (and its origin) is local.
            guard case let .mapping(given) = element else { continue }
            let overrides = Node.Mapping(pairs: given.pairs.filter { $0.key.scalar?.string != "id" }, repeats: [:], mark: given.mark)
            slots[target] = merge(slots[target], .mapping(overrides), at: path.appending(index: target))
        }
        return .sequence(Node.Sequence(nodes: slots, mark: fileSlots.mark))
    }

    /// A key path of the merged config as the desired document counts its slots: `slots[2].x`,
    /// the file's third slot, is `slots[0].x` when the document gives that slot first.
    func desiredKeyPath(_ path: String) -> String {
        guard path.hasPrefix("slots["), let close = path.firstIndex(of: "]"),
              let index = Int(path[path.index(path.startIndex, offsetBy: 6)..<close]),
              let desired = desiredSlotIndex[index]
        else { return path }
        return "slots[\(desired)]" + path[path.index(after: close)...]
    }
}
