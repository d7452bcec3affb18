// Opening a GGUF file for the CLI: mapped, parsed, with errors that name the file.
import GGUF
import Inference
import Platform
import Tokenizer

struct ModelFile {
    let path: String
    let mapping: MappedFile
    let gguf: GGUFFile

    init(path: String) throws(CLIError) {
        self.path = path
        do {
            mapping = try MappedFile(path: path)
        } catch {
            throw CLIError("cannot open model: \(error)")
        }
        do {
            gguf = try GGUFFile(bytes: mapping.bytes, owner: mapping)
        } catch {
            throw CLIError("\(path) is not a usable GGUF file: \(error)")
        }
    }

    func tokenizer() throws(CLIError) -> Tokenizer {
        do {
            return try Tokenizer(gguf: gguf)
        } catch {
            throw CLIError("\(path): \(error)")
        }
    }

    func model() throws(CLIError) -> any LanguageModel {
        do {
            return try ModelLoader.load(gguf)
        } catch {
            throw CLIError("\(path): \(error)")
        }
    }
}

/// Options shared by the commands that run a model.
struct RunOptions {
    var threads: Int
    var contextLength: Int?
    var batch: Int

    init(_ arguments: Arguments) throws(UsageError) {
        threads = try arguments.integer("threads") ?? SystemInfo.cpuCount
        guard threads >= 1 && threads <= 256 else { throw UsageError("--threads must be between 1 and 256") }
        contextLength = try arguments.integer("ctx")
        if let contextLength, contextLength < 1 { throw UsageError("--ctx must be positive") }
        batch = try arguments.integer("batch") ?? 64
        guard batch >= 1 && batch <= 4096 else { throw UsageError("--batch must be between 1 and 4096") }
    }
}
