// Thread identity, for code that must know whether it runs on its own event-loop thread.
import Glibc

public enum Threads {
    public static func currentID() -> UInt {
        UInt(bitPattern: Int(bitPattern: UInt(pthread_self())))
    }
}
