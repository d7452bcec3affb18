// `outpost status`: what the running agent says about itself.
import JSON

enum StatusCommand {
    static func run(socket: String?, json: Bool) throws(CLIError) -> String {
        let client = AgentClient(socketOption: socket)
        let response = try client.get("/v1/status")
        if json { return response.text }
        do throws(JSONFieldError) {
            return try render(JSONObjectReader(parsing: response.body))
        } catch {
            throw CLIError("the agent at \(client.socketPath) sent a status this CLI does not understand: \(error)")
        }
    }

    /// GET /v1/status as the Agent's StatusBody writes it.
    static func render(_ status: JSONObjectReader) throws(JSONFieldError) -> String {
        let models = try status.required("models", status.array).map { value throws(JSONFieldError) -> String in
            guard case .string(let name) = value else { throw status.wrongType("models", expected: "an array of strings", got: value) }
            return name
        }
        let uptime = try status.required("uptime_seconds", status.float)
        return """
            outpostd \(try status.required("version", status.string)) (commit \(try status.required("commit", status.string))), \
            \(try status.required("state", status.string))
            socket:      \(try status.required("socket", status.string))
            pid:         \(try status.required("pid", status.int))
            uptime:      \(formatDuration(Double(uptime)))
            state dir:   \(try status.required("state_dir", status.string))
            connections: \(try status.required("open_connections", status.int))
            models:      \(models.isEmpty ? "none configured" : models.joined(separator: ", "))
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
