using System.Net;
using System.Text;
using System.Text.Json;
using ErrorCoordinator.Mcp.Tests.Infrastructure;
using ModelContextProtocol.Client;

namespace ErrorCoordinator.Mcp.Tests.EndToEnd;

/// <summary>One HTTP server process (embedded store) shared by the class.</summary>
public sealed class HttpServerFixture : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;
    public McpClient Client { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Server = await ServerProcess.StartHttpAsync([]);
        Client = await McpClients.HttpAsync(Server);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
    }
}

public sealed class HttpEndToEndTests(HttpServerFixture fixture) : ReportingScenarios, IClassFixture<HttpServerFixture>
{
    private const string Initialize =
        """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";

    protected override McpClient Client => fixture.Client;

    private static HttpRequestMessage InitializeRequest(string url)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(Initialize, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        return request;
    }

    [Fact]
    public async Task Binds_loopback_and_is_stateful()
    {
        Assert.StartsWith("http://127.0.0.1:", fixture.Server.McpUrl);
        using var http = new HttpClient();
        using var response = await http.SendAsync(InitializeRequest(fixture.Server.McpUrl), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.TryGetValues("Mcp-Session-Id", out var ids) && !string.IsNullOrEmpty(ids.Single()),
            "a stateful server returns an Mcp-Session-Id");
    }

    [Theory]
    [InlineData("evil.example.com", null)]
    [InlineData(null, "http://evil.example.com")]
    [InlineData(null, "null")]
    public async Task Foreign_host_or_origin_headers_are_rejected(string? host, string? origin)
    {
        using var http = new HttpClient();
        using var request = InitializeRequest(fixture.Server.McpUrl);
        if (host is not null) request.Headers.Host = host;
        if (origin is not null) request.Headers.Add("Origin", origin);
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("DNS rebinding", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Localhost_origin_is_accepted()
    {
        using var http = new HttpClient();
        using var request = InitializeRequest(fixture.Server.McpUrl);
        request.Headers.Add("Origin", fixture.Server.BaseUri.GetLeftPart(UriPartial.Authority));
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Bad_input_is_answered_without_an_error_log_or_stack_trace()
    {
        var error = await fixture.Client.CallFailingAsync("report_failure", new { agent = "a", error_type = "X", message = "m", category = "nope" });
        Assert.StartsWith("'category' must be one of", error);
        Assert.DoesNotContain("threw an unhandled exception", fixture.Server.Stderr);
        Assert.DoesNotContain("   at ", fixture.Server.Stderr);
    }

    [Fact]
    public async Task Healthz_reports_the_store()
    {
        using var http = new HttpClient();
        var body = await http.GetStringAsync(new Uri(fixture.Server.BaseUri, "/healthz"), TestContext.Current.CancellationToken);
        using var doc = JsonDocument.Parse(body);
        Assert.Equal("ok", doc.RootElement.GetProperty("status").GetString());
        Assert.Equal("in-memory", doc.RootElement.GetProperty("store").GetString());
    }
}
