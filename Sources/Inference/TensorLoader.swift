// Looks up a model's tensors by name and checks their shapes and types before anything uses them.
import GGUF
import Kernels

struct TensorLoader {
    let file: GGUFFile

    /// A weight matrix with `rows` outputs of `cols` inputs (GGUF dimensions [cols, rows]).
    func matrix(_ name: String, rows: Int, cols: Int) throws(ModelError) -> WeightMatrix {
        guard let info = file.tensor(name) else { throw ModelError("tensor '\(name)' is missing") }
        guard info.dimensions == [cols, rows] || (rows == 1 && info.dimensions == [cols]) else {
            throw ModelError("tensor '\(name)' has shape \(info.dimensions), expected [\(cols), \(rows)]")
        }
        guard let base = file.data(info).baseAddress else { throw ModelError("tensor '\(name)' has no data") }
        do {
            return try WeightMatrix(type: info.type, rows: rows, cols: cols, data: base)
        } catch {
            throw ModelError("tensor '\(name)': \(error)")
        }
    }

    func optionalMatrix(_ name: String, rows: Int, cols: Int) throws(ModelError) -> WeightMatrix? {
        guard file.tensor(name) != nil else { return nil }
        return try matrix(name, rows: rows, cols: cols)
    }

    /// A vector of `count` floats (norm weights, biases); converted to F32 when stored otherwise.
    func vector(_ name: String, count: Int) throws(ModelError) -> [Float] {
        let weights = try matrix(name, rows: 1, cols: count)
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBufferPointer { Kernels.dequantizeRow(weights, row: 0, into: $0.baseAddress!) }
        return values
    }

    func optionalVector(_ name: String, count: Int) throws(ModelError) -> [Float]? {
        guard file.tensor(name) != nil else { return nil }
        return try vector(name, count: count)
    }
}

/// Typed metadata reads whose errors name the key.
struct Metadata {
    let file: GGUFFile
    let prefix: String

    func integer(_ key: String) throws(ModelError) -> Int {
        do { return try file.integer("\(prefix).\(key)") } catch { throw ModelError("\(error)") }
    }

    func optionalInteger(_ key: String) throws(ModelError) -> Int? {
        guard file["\(prefix).\(key)"] != nil else { return nil }
        return try integer(key)
    }

    func float(_ key: String) throws(ModelError) -> Float {
        do { return try file.float("\(prefix).\(key)") } catch { throw ModelError("\(error)") }
    }

    func optionalFloat(_ key: String) throws(ModelError) -> Float? {
        guard file["\(prefix).\(key)"] != nil else { return nil }
        return try float(key)
    }

    func optionalString(_ key: String) throws(ModelError) -> String? {
        guard file["\(prefix).\(key)"] != nil else { return nil }
        do { return try file.string("\(prefix).\(key)") } catch { throw ModelError("\(error)") }
    }

    /// A positive integer no larger than `limit`.
    func count(_ key: String, limit: Int = 1 << 20) throws(ModelError) -> Int {
        let value = try integer(key)
        guard value > 0, value <= limit else { throw ModelError("\(prefix).\(key) = \(value) is out of range 1...\(limit)") }
        return value
    }
}
