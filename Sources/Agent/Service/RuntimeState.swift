// Facts about the running agent that handlers read from any thread.
import Synchronization

final class RuntimeState: AgentState {
    let socketPath: String
    let stateDirectory: String
    let startedAt: Double
    private let draining = Atomic<Bool>(false)
    private let connections: @Sendable () -> Int
    let modelNames: [String]
    let modelProblems: [String]

    init(socketPath: String, stateDirectory: String, startedAt: Double, models: [String], problems: [String],
         connections: @escaping @Sendable () -> Int) {
        modelNames = models
        modelProblems = problems
        self.socketPath = socketPath
        self.stateDirectory = stateDirectory
        self.startedAt = startedAt
        self.connections = connections
    }

    var isDraining: Bool { draining.load(ordering: .relaxed) }
    func startDraining() { draining.store(true, ordering: .relaxed) }
    var openConnections: Int { connections() }
}
