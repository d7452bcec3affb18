// Facts about the running agent that handlers read from any thread.
import Serving
import Synchronization

final class RuntimeState: AgentState {
    let socketPath: String
    let stateDirectory: String
    let startedAt: Double
    private let draining = Atomic<Bool>(false)
    private let connections: @Sendable () -> Int
    private let models: ModelRegistry

    init(socketPath: String, stateDirectory: String, startedAt: Double, models: ModelRegistry,
         connections: @escaping @Sendable () -> Int) {
        self.models = models
        self.socketPath = socketPath
        self.stateDirectory = stateDirectory
        self.startedAt = startedAt
        self.connections = connections
    }

    var isDraining: Bool { draining.load(ordering: .relaxed) }
    func startDraining() { draining.store(true, ordering: .relaxed) }
    var openConnections: Int { connections() }
    var modelNames: [String] { models.names }
    var modelProblems: [String] { models.problems }
}
