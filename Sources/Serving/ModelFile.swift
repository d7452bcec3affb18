// Opening a GGUF file, for serving and for the CLI: mapped, parsed, with errors that name the file.
import GGUF
import Inference
import Platform
import Tokenizer

public struct ModelFile {
    public let path: String
    public let mapping: MappedFile
    public let gguf: GGUFFile

    public init(path: String) throws(ServingError) {
        self.path = path
        do {
            mapping = try MappedFile(path: path)
        } catch {
            throw ServingError("cannot open model: \(error)")
        }
        do {
            gguf = try GGUFFile(bytes: mapping.bytes, owner: mapping)
        } catch {
            throw ServingError("\(path) is not a usable GGUF file: \(error)")
        }
    }

    /// A model held in memory (decrypted from the store); `path` names it in messages.
    public init(mapping: MappedFile) throws(ServingError) {
        path = mapping.path
        self.mapping = mapping
        do {
            gguf = try GGUFFile(bytes: mapping.bytes, owner: mapping)
        } catch {
            throw ServingError("\(path) is not a usable GGUF file: \(error)")
        }
    }

    public func tokenizer() throws(ServingError) -> Tokenizer {
        do {
            return try Tokenizer(gguf: gguf)
        } catch {
            throw ServingError("\(path): \(error)")
        }
    }

    public func model() throws(ServingError) -> any LanguageModel {
        do {
            return try ModelLoader.load(gguf)
        } catch {
            throw ServingError("\(path): \(error)")
        }
    }
}
