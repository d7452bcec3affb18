// The tensor directory: names, shapes and types, then where each tensor's bytes lie in the file.

/// A directory entry before the data section's start is known.
struct TensorRecord {
    var name: String
    var dimensions: [Int]
    var type: GGMLType
    var relativeOffset: UInt64
    var byteCount: Int
    /// Where the entry's offset field sits in the file: errors about the tensor's bytes point there.
    var offsetFieldPosition: Int
}

extension GGUFParser {
    mutating func readTensorInfos(count: Int, alignment: Int) throws(GGUFError) -> [TensorRecord] {
        var records: [TensorRecord] = []
        records.reserveCapacity(count)
        var seen: [String: Int] = [:]
        seen.reserveCapacity(count)
        for number in 0..<count {
            let start = cursor.offset
            let name = try readTensorName(number)
            if let first = seen[name] {
                throw GGUFError(
                    field: "tensor '\(name)'", offset: start, message: "duplicate tensor name (first used by tensor #\(first))")
            }
            seen[name] = number
            records.append(try readTensorInfo(name: name, alignment: alignment))
        }
        return records
    }

    private mutating func readTensorName(_ number: Int) throws(GGUFError) -> String {
        let start = cursor.offset
        let raw = try cursor.lengthPrefixed("tensor #\(number) name", limit: GGUFLimits.maxTensorNameBytes)
        guard !raw.isEmpty else {
            throw GGUFError(field: "tensor #\(number) name", offset: start, message: "name is empty")
        }
        guard let name = raw.validUTF8 else {
            throw GGUFError(field: "tensor #\(number) name", offset: start, message: "name is not valid UTF-8")
        }
        return name
    }

    private mutating func readTensorInfo(name: String, alignment: Int) throws(GGUFError) -> TensorRecord {
        let field = "tensor '\(name)'"
        let (dimensions, elements) = try readShape(field: field)

        let typeStart = cursor.offset
        let rawType = try cursor.read(UInt32.self, field + " type")
        guard let type = GGMLType(rawValue: rawType) else {
            throw GGUFError(field: field + " type", offset: typeStart, message: "unknown ggml type id \(rawType)")
        }
        guard dimensions[0] % type.blockSize == 0 else {
            throw GGUFError(
                field: field + " type", offset: typeStart,
                message: "row length \(dimensions[0]) is not a multiple of \(type.name)'s block size \(type.blockSize)")
        }
        guard let rowBytes = type.rowBytes(dimensions[0]),
              case (let byteCount, false) = rowBytes.multipliedReportingOverflow(by: elements / dimensions[0])
        else {
            throw GGUFError(
                field: field + " type", offset: typeStart,
                message: "size in bytes of \(type.name) \(dimensions) does not fit in \(Int.bitWidth) bits")
        }

        let offsetStart = cursor.offset
        let relativeOffset = try cursor.read(UInt64.self, field + " offset")
        guard relativeOffset % UInt64(alignment) == 0 else {
            throw GGUFError(
                field: field + " offset", offset: offsetStart,
                message: "offset \(relativeOffset) is not a multiple of the alignment \(alignment)")
        }
        return TensorRecord(
            name: name, dimensions: dimensions, type: type, relativeOffset: relativeOffset, byteCount: byteCount,
            offsetFieldPosition: offsetStart)
    }

    /// n_dims and the dimensions: 1 to 4 of them, each at least 1, their product overflow-checked.
    private mutating func readShape(field: String) throws(GGUFError) -> (dimensions: [Int], elements: Int) {
        let start = cursor.offset
        let count = try cursor.read(UInt32.self, field + " dimension count")
        guard count >= 1, count <= UInt32(GGUFLimits.maxDimensions) else {
            throw GGUFError(
                field: field + " dimension count", offset: start,
                message: "\(count) dimensions; ggml tensors have 1 to \(GGUFLimits.maxDimensions)")
        }
        var dimensions: [Int] = []
        dimensions.reserveCapacity(Int(count))
        var elements = 1
        for axis in 0..<Int(count) {
            let dimensionStart = cursor.offset
            let raw = try cursor.read(UInt64.self, "\(field) dimension \(axis)")
            guard raw >= 1, raw <= UInt64(Int64.max) else {
                throw GGUFError(
                    field: "\(field) dimension \(axis)", offset: dimensionStart,
                    message: "\(raw) elements; a dimension must be between 1 and \(Int64.max)")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: Int(raw))
            guard !overflow else {
                throw GGUFError(
                    field: "\(field) dimension \(axis)", offset: dimensionStart,
                    message: "element count of shape \(dimensions + [Int(raw)]) does not fit in \(Int.bitWidth) bits")
            }
            elements = product
            dimensions.append(Int(raw))
        }
        return (dimensions, elements)
    }

    /// Turns relative offsets into absolute ones and checks that every tensor lies inside the file and that no
    /// two tensors share a byte.
    func place(_ records: [TensorRecord], dataOffset: Int) throws(GGUFError) -> [GGUFTensorInfo] {
        let fileSize = cursor.bytes.count
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(records.count)
        for record in records {
            let field = "tensor '\(record.name)' data"
            guard record.relativeOffset <= UInt64(Int.max) else {
                throw GGUFError(
                    field: field, offset: record.offsetFieldPosition,
                    message: "offset \(record.relativeOffset) lies past the end of the file (\(fileSize) bytes)")
            }
            let (start, startOverflow) = dataOffset.addingReportingOverflow(Int(record.relativeOffset))
            let (end, endOverflow) = start.addingReportingOverflow(record.byteCount)
            guard !startOverflow, !endOverflow, end <= fileSize else {
                let range = startOverflow || endOverflow ? "offset \(record.relativeOffset)" : "range \(start)..<\(end)"
                throw GGUFError(
                    field: field, offset: record.offsetFieldPosition,
                    message: "\(range) lies past the end of the file (\(fileSize) bytes)")
            }
            tensors.append(GGUFTensorInfo(
                name: record.name, dimensions: record.dimensions, type: record.type, offset: start,
                byteCount: record.byteCount))
        }

        // Sorted by start, each tensor must begin at or after the end of the one before it.
        let order = tensors.indices.sorted { tensors[$0].offset < tensors[$1].offset }
        for (previous, next) in zip(order, order.dropFirst()) {
            let before = tensors[previous], after = tensors[next]
            let beforeEnd = before.offset + before.byteCount
            guard after.offset >= beforeEnd else {
                throw GGUFError(
                    field: "tensor '\(after.name)' data", offset: records[next].offsetFieldPosition,
                    message: "range \(after.offset)..<\(after.offset + after.byteCount) overlaps tensor '\(before.name)' "
                        + "(\(before.offset)..<\(beforeEnd))")
            }
        }
        return tensors
    }
}
