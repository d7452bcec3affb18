// `outpost status`: what the running agent says about itself.
import FoundationEssentials

public enum StatusCommand {
    public static func run(socket: String?, json: Bool) throws(CLIError) -> String {
        let client = AgentClient(socketOption: socket)
        let response = try client.get("/v1/status")
        if json { return response.text }
        let status: StatusBody
        do {
            status = try JSONDecoder().decode(StatusBody.self, from: Data(response.body))
        } catch {
            throw CLIError("the agent at \(client.socketPath) sent a status this CLI does not understand: \(error)")
        }
        return render(status)
    }

    static func render(_ status: StatusBody) -> String {
        """
        outpostd \(status.version) (commit \(status.commit)), \(status.state)
        socket:      \(status.socket)
        pid:         \(status.pid)
        uptime:      \(formatDuration(status.uptimeSeconds))
        state dir:   \(status.stateDirectory)
        connections: \(status.openConnections)
        models:      \(status.models.isEmpty ? "none configured" : status.models.joined(separator: ", "))
        """
    }

    static func formatDuration(_ seconds: Double) -> String {
        var rest = Int(seconds)
        let days = rest / 86400
        rest %= 86400
        let hours = rest / 3600
        rest %= 3600
        let minutes = rest / 60
        let secs = rest % 60
        if days > 0 { return "\(days)d \(hours)h \(minutes)m" }
        if hours > 0 { return "\(hours)h \(minutes)m \(secs)s" }
        if minutes > 0 { return "\(minutes)m \(secs)s" }
        return "\(secs)s"
    }
}
