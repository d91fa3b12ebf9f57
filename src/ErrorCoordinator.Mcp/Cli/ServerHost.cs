using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Mcp.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Mcp.Cli;

/// <summary>Builds and runs the stdio or HTTP host around the one composition root.</summary>
public static class ServerHost
{
    public static async Task<int> RunAsync(ServerSettings settings, TextWriter stderr, CancellationToken cancellationToken)
    {
        try
        {
            return settings.Http
                ? await RunHttpAsync(settings, stderr, cancellationToken)
                : await RunStdioAsync(settings, stderr, cancellationToken);
        }
        catch (StartupException ex)
        {
            stderr.WriteLine($"ErrorCoordinator: {ex.Message}");
            return 2;
        }
        catch (OptionsValidationException ex)
        {
            stderr.WriteLine($"ErrorCoordinator: invalid configuration: {string.Join("; ", ex.Failures)}");
            return 2;
        }
    }

    private static async Task<int> RunStdioAsync(ServerSettings settings, TextWriter stderr, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        Configure(builder.Configuration, builder.Logging, settings);
        builder.Services.AddErrorCoordination(builder.Configuration);
        builder.Services.AddErrorCoordinatorMcpServer().WithStdioServerTransport();
        using var host = builder.Build();
        Ready(host.Services, stderr);
        await host.RunAsync(cancellationToken);
        return 0;
    }

    private static async Task<int> RunHttpAsync(ServerSettings settings, TextWriter stderr, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        Configure(builder.Configuration, builder.Logging, settings);
        builder.WebHost.UseUrls($"http://{FormatHost(settings.Host)}:{settings.Port}");
        builder.Services.AddErrorCoordination(builder.Configuration);
        builder.Services.AddErrorCoordinatorMcpServer().WithHttpTransport(o => o.Stateless = false);
        builder.Services.AddHealthChecks().AddCheck<StoreHealthCheck>("store");
        var allowedHosts = builder.Configuration.GetSection(HttpOptions.Section).Get<HttpOptions>()?.AllowedHosts ?? [];
        if (settings.Host is not ("127.0.0.1" or "localhost" or "::1" or "0.0.0.0" or "::" or "*")) allowedHosts.Add(settings.Host);

        await using var app = builder.Build();
        Ready(app.Services, stderr);
        app.UseHostAndOriginValidation(allowedHosts);
        app.MapHealthChecks("/healthz", new Microsoft.AspNetCore.Diagnostics.HealthChecks.HealthCheckOptions { ResponseWriter = StoreHealthCheck.WriteAsync });
        app.MapMcp("/mcp");

        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        stderr.WriteLine($"ErrorCoordinator: MCP over Streamable HTTP at {address}/mcp (health: {address}/healthz)");
        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }

    /// <summary>Configuration: appsettings.json, environment (ErrorCoordinator__..., REDIS_URL), then the command line.</summary>
    private static void Configure(ConfigurationManager configuration, ILoggingBuilder logging, ServerSettings settings)
    {
        var overrides = new Dictionary<string, string?>();
        var redisUrl = Environment.GetEnvironmentVariable("REDIS_URL");
        if (!string.IsNullOrWhiteSpace(redisUrl) && string.IsNullOrWhiteSpace(configuration[$"{StorageOptions.Section}:Redis"]))
            overrides[$"{StorageOptions.Section}:Redis"] = redisUrl;
        foreach (var pair in settings.Settings)
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0) throw new StartupException($"--set expects KEY=VALUE; got '{pair}'.");
            overrides[pair[..eq].Trim()] = pair[(eq + 1)..];
        }
        if (settings.Redis is not null) overrides[$"{StorageOptions.Section}:Redis"] = settings.Redis;
        if (settings.KeyPrefix is not null) overrides[$"{StorageOptions.Section}:KeyPrefix"] = settings.KeyPrefix;
        configuration.AddInMemoryCollection(overrides);

        // Every log goes to stderr: on stdio, stdout carries the protocol.
        logging.ClearProviders();
        logging.AddSimpleConsole(o => o.SingleLine = true);
        logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    }

    private static void Ready(IServiceProvider services, TextWriter stderr)
    {
        try
        {
            services.GetRequiredService<StoreStartup>().EnsureReady(stderr);
        }
        catch (Exception ex) when (ex is not StartupException && FindStartupCause(ex) is { } cause)
        {
            throw cause;
        }
    }

    private static StartupException? FindStartupCause(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is StartupException s) return s;
            if (e is OptionsValidationException o) return new StartupException($"invalid configuration: {string.Join("; ", o.Failures)}");
        }
        return null;
    }

    private static string FormatHost(string host) => host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
}

/// <summary>A start-up failure reported as one line on stderr, with a non-zero exit code.</summary>
public sealed class StartupException(string message) : Exception(message);
