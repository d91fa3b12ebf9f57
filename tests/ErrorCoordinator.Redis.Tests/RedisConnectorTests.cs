using System.Diagnostics;
using System.Net;
using ErrorCoordinator.Testing.Redis;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Tests;

/// <remarks>
/// Run on their own: connecting to dead or foreign endpoints occupies StackExchange.Redis's shared socket
/// manager for the connect timeout, which would slow the connections of concurrency tests running beside them.
/// </remarks>
[Collection(nameof(RedisConnectorTests))]
public sealed class RedisConnectorTests(RedisServer server)
{
    [Fact]
    public async Task Unreachable_redis_fails_fast_with_one_clear_exception()
    {
        var port = RedisServer.FreePort(); // nothing listens there
        var sw = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<RedisUnavailableException>(() => RedisConnector.ConnectAsync($"redis://127.0.0.1:{port}", cancellationToken: TestContext.Current.CancellationToken));
        sw.Stop();
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(8), $"took {sw.Elapsed}");
        Assert.StartsWith($"Cannot connect to Redis at 127.0.0.1:{port}: ", ex.Message);
        Assert.Equal($"127.0.0.1:{port}", ex.Endpoint);
        Assert.Contains("connection refused", ex.Message);
        Assert.DoesNotContain("abortConnect", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_port_that_is_not_redis_is_reported_as_a_handshake_failure()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start(); // accepts TCP, never answers
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var ex = await Assert.ThrowsAsync<RedisUnavailableException>(() => RedisConnector.ConnectAsync($"127.0.0.1:{port},connectTimeout=1000", cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("handshake failed", ex.Message);
    }

    [Fact]
    public async Task Unresolvable_host_fails_with_the_host_in_the_message()
    {
        var ex = await Assert.ThrowsAsync<RedisUnavailableException>(() => RedisConnector.ConnectAsync("no-such-host.invalid:6379,connectTimeout=2000", cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("no-such-host.invalid:6379", ex.Message);
        Assert.Contains("host not found", ex.Message);
    }

    [Fact]
    public async Task Password_is_never_in_the_error_message()
    {
        var port = RedisServer.FreePort();
        var ex = await Assert.ThrowsAsync<RedisUnavailableException>(() => RedisConnector.ConnectAsync($"redis://user:s3cr3t-pw@127.0.0.1:{port}/2", cancellationToken: TestContext.Current.CancellationToken));
        Assert.DoesNotContain("s3cr3t-pw", ex.Message);
        Assert.DoesNotContain("s3cr3t-pw", ex.ToString());
    }

    [Fact]
    public void Parses_a_full_redis_url()
    {
        var o = RedisConnector.Parse("redis://alice:p%40ss%3Aword@cache.example.com:6390/3");
        var ep = Assert.IsType<DnsEndPoint>(Assert.Single(o.EndPoints));
        Assert.Equal("cache.example.com", ep.Host);
        Assert.Equal(6390, ep.Port);
        Assert.Equal("alice", o.User);
        Assert.Equal("p@ss:word", o.Password);
        Assert.Equal(3, o.DefaultDatabase);
        Assert.False(o.Ssl);
        Assert.True(o.AbortOnConnectFail);
        Assert.Equal(RedisConnector.DefaultConnectTimeoutMs, o.ConnectTimeout);
    }

    [Fact]
    public void Parses_rediss_as_tls_with_defaults()
    {
        var o = RedisConnector.Parse("rediss://:only-password@secure.example.com");
        var ep = Assert.IsType<DnsEndPoint>(Assert.Single(o.EndPoints));
        Assert.Equal("secure.example.com", ep.Host);
        Assert.Equal(RedisConnector.DefaultPort, ep.Port);
        Assert.True(o.Ssl);
        Assert.Equal("secure.example.com", o.SslHost);
        Assert.Null(o.User);
        Assert.Equal("only-password", o.Password);
        Assert.Null(o.DefaultDatabase);
    }

    [Fact]
    public void Parses_ip_addresses_and_password_only_user_info()
    {
        var o = RedisConnector.Parse("redis://pw@127.0.0.1:7000/0");
        var ep = Assert.IsType<IPEndPoint>(Assert.Single(o.EndPoints));
        Assert.Equal(IPAddress.Loopback, ep.Address);
        Assert.Equal(7000, ep.Port);
        Assert.Equal("pw", o.Password);
        Assert.Equal(0, o.DefaultDatabase);

        var v6 = RedisConnector.Parse("redis://[::1]:7001");
        var ep6 = Assert.IsType<IPEndPoint>(Assert.Single(v6.EndPoints));
        Assert.Equal(IPAddress.IPv6Loopback, ep6.Address);
        Assert.Equal("[::1]:7001", RedisConnector.Format(ep6));
    }

    [Fact]
    public void Accepts_a_stack_exchange_configuration_string()
    {
        var o = RedisConnector.Parse("localhost:6381,password=pw,ssl=true,defaultDatabase=4");
        var ep = Assert.IsType<DnsEndPoint>(Assert.Single(o.EndPoints));
        Assert.Equal("localhost", ep.Host);
        Assert.Equal(6381, ep.Port);
        Assert.Equal("pw", o.Password);
        Assert.True(o.Ssl);
        Assert.Equal(4, o.DefaultDatabase);
        Assert.True(o.AbortOnConnectFail);
        Assert.Equal(RedisConnector.DefaultConnectTimeoutMs, o.ConnectTimeout);
        Assert.Equal(1234, RedisConnector.Parse("localhost,connectTimeout=1234").ConnectTimeout);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("redis://host:6379/notanumber")]
    [InlineData("redis://")]
    public void Rejects_bad_connection_strings(string value) =>
        Assert.Throws<ArgumentException>(() => RedisConnector.Parse(value));

    [Fact]
    public async Task Connects_to_the_test_server_and_loads_the_scripts()
    {
        await using var mux = (ConnectionMultiplexer)await RedisConnector.ConnectAsync(server.Configuration, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(mux.IsConnected);
        var endpoint = mux.GetEndPoints()[0];
        var serverApi = mux.GetServer(endpoint);
        Assert.NotEmpty(ErrorCoordinator.Redis.Scripting.RedisScripts.All);
        foreach (var script in ErrorCoordinator.Redis.Scripting.RedisScripts.All.Values)
            Assert.True(await serverApi.ScriptExistsAsync(script.Sha1), $"{script.Name} is not loaded");
    }
}

[CollectionDefinition(nameof(RedisConnectorTests), DisableParallelization = true)]
public sealed class RedisConnectorTestsCollection;
