// What the kernels refuse: tensor types they cannot handle, shapes that do not fit a type's blocks.
import GGUF

/// An error from the kernels: a tensor type they cannot handle, or a shape that does not fit the type's blocks.
public struct KernelError: Error, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    static func unsupported(_ type: GGMLType) -> KernelError {
        let supported = GGMLType.allCases.filter(Kernels.isSupported).map(Kernels.name).joined(separator: ", ")
        return KernelError("tensor type \(Kernels.name(of: type)) is not supported; supported: \(supported)")
    }

    static func notActivation(_ type: GGMLType) -> KernelError {
        KernelError("tensor type \(Kernels.name(of: type)) is not an activation format; "
            + "activation formats: F32, F16, BF16, Q8_0, Q8_1, Q8_K")
    }

    static func blocks(_ type: GGMLType, count: Int, what: String) -> KernelError {
        KernelError("tensor type \(Kernels.name(of: type)) stores blocks of \(Kernels.blockSize(type)) elements; "
            + "\(what) \(count) is not a non-negative multiple of that")
    }
}
