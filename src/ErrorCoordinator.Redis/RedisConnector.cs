using System.Net;
using ErrorCoordinator.Redis.Scripting;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis;

/// <summary>Redis could not be reached when the coordinator started.</summary>
public sealed class RedisUnavailableException(string endpoint, string reason, Exception? inner = null)
    : Exception($"Cannot connect to Redis at {endpoint}: {reason}", inner)
{
    /// <summary>The endpoint(s) tried, as host:port (never the password).</summary>
    public string Endpoint { get; } = endpoint;
}

/// <summary>Connects to Redis from a URL or a StackExchange.Redis configuration string, failing fast and clearly.</summary>
public static class RedisConnector
{
    /// <summary>Default connect timeout (ms) when the configuration names none.</summary>
    public const int DefaultConnectTimeoutMs = 5_000;

    /// <summary>Default Redis port.</summary>
    public const int DefaultPort = 6379;

    /// <summary>
    /// Parses <c>redis://[user:pass@]host[:port][/db]</c>, <c>rediss://...</c> (TLS), or a StackExchange.Redis
    /// configuration string (<c>host:port,password=...,ssl=true</c>). In a URL, a user-info without ':' is the password;
    /// user and password are percent-decoded.
    /// </summary>
    /// <exception cref="ArgumentException">The value is empty or not a valid URL / configuration string.</exception>
    public static ConfigurationOptions Parse(string redisUrlOrConfig)
    {
        if (string.IsNullOrWhiteSpace(redisUrlOrConfig)) throw new ArgumentException("The Redis connection string is empty.", nameof(redisUrlOrConfig));
        var text = redisUrlOrConfig.Trim();
        ConfigurationOptions options;
        if (text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
                throw new ArgumentException($"'{Redact(text)}' is not a valid redis:// URL.", nameof(redisUrlOrConfig));
            options = new ConfigurationOptions { Ssl = uri.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase) };
            var port = uri.IsDefaultPort || uri.Port < 0 ? DefaultPort : uri.Port;
            var host = uri.DnsSafeHost;
            options.EndPoints.Add(IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port));
            if (options.Ssl) options.SslHost = host;
            if (!string.IsNullOrEmpty(uri.UserInfo))
            {
                var colon = uri.UserInfo.IndexOf(':');
                if (colon < 0) options.Password = Uri.UnescapeDataString(uri.UserInfo);
                else
                {
                    var user = Uri.UnescapeDataString(uri.UserInfo[..colon]);
                    if (user.Length > 0) options.User = user;
                    options.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
                }
            }
            var path = uri.AbsolutePath.Trim('/');
            if (path.Length > 0)
            {
                if (!int.TryParse(path, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var db))
                    throw new ArgumentException($"'{Redact(text)}': the path must be a database number, e.g. redis://host:6379/0.", nameof(redisUrlOrConfig));
                options.DefaultDatabase = db;
            }
            options.ConnectTimeout = DefaultConnectTimeoutMs;
        }
        else
        {
            try
            {
                options = ConfigurationOptions.Parse(text);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"Invalid Redis configuration string: {ex.Message}", nameof(redisUrlOrConfig), ex);
            }
            if (!text.Contains("connectTimeout", StringComparison.OrdinalIgnoreCase)) options.ConnectTimeout = DefaultConnectTimeoutMs;
            if (options.EndPoints.Count == 0) throw new ArgumentException("The Redis configuration names no endpoint.", nameof(redisUrlOrConfig));
        }
        options.AbortOnConnectFail = true;
        options.ConnectRetry = 1;
        options.ClientName ??= "error-coordinator";
        return options;
    }

    /// <summary>
    /// Connects and SCRIPT LOADs the embedded Lua scripts. If Redis cannot be reached within the connect timeout
    /// (about 5 s by default), throws one <see cref="RedisUnavailableException"/> naming the endpoint and the reason.
    /// </summary>
    public static async Task<IConnectionMultiplexer> ConnectAsync(string redisUrlOrConfig, TextWriter? log = null, CancellationToken cancellationToken = default)
    {
        var options = Parse(redisUrlOrConfig);
        return await ConnectAsync(options, log, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc cref="ConnectAsync(string, TextWriter?, CancellationToken)"/>
    public static async Task<IConnectionMultiplexer> ConnectAsync(ConfigurationOptions options, TextWriter? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var endpoint = string.Join(",", options.EndPoints.Select(Format));
        ConnectionMultiplexer? mux = null;
        try
        {
            var connect = ConnectionMultiplexer.ConnectAsync(options, log);
            mux = await connect.WaitAsync(TimeSpan.FromMilliseconds(options.ConnectTimeout + 2_000), cancellationToken).ConfigureAwait(false);
            if (!mux.IsConnected) throw new RedisUnavailableException(endpoint, "no endpoint is reachable.");
            await new RedisScripts(mux).LoadAsync(cancellationToken).ConfigureAwait(false);
            return mux;
        }
        catch (Exception ex) when (ex is RedisConnectionException or TimeoutException or RedisTimeoutException or System.Net.Sockets.SocketException)
        {
            mux?.Dispose();
            var reason = await DiagnoseAsync(options, ex, cancellationToken).ConfigureAwait(false);
            throw new RedisUnavailableException(endpoint, reason, ex);
        }
        catch (RedisServerException ex)
        {
            mux?.Dispose();
            throw new RedisUnavailableException(endpoint, ex.Message, ex);
        }
        catch
        {
            mux?.Dispose();
            throw;
        }
    }

    /// <summary>host:port of an endpoint.</summary>
    public static string Format(EndPoint endpoint) => endpoint switch
    {
        DnsEndPoint d => $"{d.Host}:{d.Port}",
        IPEndPoint { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } ip => $"[{ip.Address}]:{ip.Port}",
        IPEndPoint ip => $"{ip.Address}:{ip.Port}",
        _ => endpoint.ToString() ?? "?",
    };

    /// <summary>
    /// StackExchange.Redis says only "it was not possible to connect"; probe the first endpoint over TCP to tell
    /// a refused port, an unknown host or a timeout from a handshake (password, TLS) failure.
    /// </summary>
    private static async Task<string> DiagnoseAsync(ConfigurationOptions options, Exception ex, CancellationToken cancellationToken)
    {
        if (ex is RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure })
            return "authentication failed (check the user and password).";
        var first = options.EndPoints.FirstOrDefault();
        if (first is null) return "no endpoint configured.";
        var (host, port) = first switch
        {
            DnsEndPoint d => (d.Host, d.Port),
            IPEndPoint ip => (ip.Address.ToString(), ip.Port),
            _ => ((string?)null, 0),
        };
        if (host is null) return ex.GetType().Name;
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(TimeSpan.FromMilliseconds(Math.Clamp(options.ConnectTimeout, 500, 3_000)));
            await client.ConnectAsync(host, port, cts.Token).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException se)
        {
            return se.SocketErrorCode switch
            {
                System.Net.Sockets.SocketError.ConnectionRefused => "connection refused (is redis-server running and listening on that port?).",
                System.Net.Sockets.SocketError.HostNotFound or System.Net.Sockets.SocketError.NoData or System.Net.Sockets.SocketError.TryAgain => "host not found.",
                System.Net.Sockets.SocketError.TimedOut => $"timed out after {options.ConnectTimeout} ms.",
                _ => $"{se.SocketErrorCode}: {se.Message}",
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"timed out after {options.ConnectTimeout} ms (no answer from the host).";
        }
        return options.Ssl
            ? "the port accepts connections but the Redis handshake failed (check TLS: the server must speak TLS for rediss://, and the password)."
            : "the port accepts connections but the Redis handshake failed (check the password, whether the server needs TLS (use rediss://), and that it is a Redis server).";
    }

    private static string Redact(string url)
    {
        var at = url.IndexOf('@');
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        return at > 0 && scheme > 0 && at > scheme ? url[..(scheme + 3)] + "***" + url[at..] : url;
    }
}
