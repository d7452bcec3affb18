// Turning byte ranges of the file into Swift strings.

extension UnsafeRawBufferPointer {
    /// Any bytes, as llama.cpp accepts them: invalid UTF-8 becomes U+FFFD instead of failing the file.
    var lossyUTF8: String {
        String(decoding: assumingMemoryBound(to: UInt8.self), as: UTF8.self)
    }

    /// The string only when the bytes are valid UTF-8. Used for keys and tensor names, which code looks up by
    /// exact spelling: repairing them would make two different names compare equal.
    var validUTF8: String? {
        String(validating: assumingMemoryBound(to: UInt8.self), as: UTF8.self)
    }
}
