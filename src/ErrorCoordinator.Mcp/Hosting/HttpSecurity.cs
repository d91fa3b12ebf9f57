using System.Net;

namespace ErrorCoordinator.Mcp.Hosting;

/// <summary>Options of the HTTP transport. Bound from <c>ErrorCoordinator:Http</c>.</summary>
public sealed class HttpOptions
{
    public const string Section = "ErrorCoordinator:Http";

    /// <summary>Host names accepted in the Host and Origin headers besides localhost, 127.0.0.1 and [::1].</summary>
    public List<string> AllowedHosts { get; set; } = [];
}

/// <summary>
/// DNS-rebinding protection: requests whose Host header, or Origin header when present, names a host
/// other than the loopback names (or configured ones) are refused with 403 before they reach MCP.
/// </summary>
public static class HttpSecurity
{
    public static IApplicationBuilder UseHostAndOriginValidation(this IApplicationBuilder app, IEnumerable<string> extraHosts)
    {
        var allowed = new HashSet<string>(["localhost", "127.0.0.1", "::1", "[::1]"], StringComparer.OrdinalIgnoreCase);
        foreach (var h in extraHosts) allowed.Add(h.Trim());
        return app.Use(async (context, next) =>
        {
            var host = context.Request.Host.Host;
            var origin = context.Request.Headers.Origin.ToString();
            string? reason = null;
            if (string.IsNullOrEmpty(host) || !allowed.Contains(host)) reason = $"Host '{host}' is not allowed";
            else if (!string.IsNullOrEmpty(origin) && origin != "null" &&
                     (!Uri.TryCreate(origin, UriKind.Absolute, out var o) || !allowed.Contains(o.Host)))
                reason = $"Origin '{origin}' is not allowed";
            else if (origin == "null") reason = "Origin 'null' is not allowed";

            if (reason is not null)
            {
                context.Response.StatusCode = (int)HttpStatusCode.Forbidden;
                context.Response.ContentType = "application/json";
                var message = System.Text.Json.JsonSerializer.Serialize(
                    $"Forbidden: {reason} (DNS rebinding protection). Add the host to ErrorCoordinator:Http:AllowedHosts to allow it.");
                await context.Response.WriteAsync("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32000,\"message\":" + message + "}}");
                return;
            }
            await next();
        });
    }
}
