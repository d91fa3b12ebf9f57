using System.Diagnostics;
using System.Text.Json;
using ErrorCoordinator.Mcp.Tests.Infrastructure;
using ModelContextProtocol.Client;

namespace ErrorCoordinator.Mcp.Tests.EndToEnd;

/// <summary>
/// The real NVML binding end to end on a host without a GPU: the server loads a stand-in libnvidia-ml.so.1
/// (NvmlStub/nvml_stub.c, compiled here with cc) from LD_LIBRARY_PATH, so the LibraryImport stubs, function pointers,
/// struct layouts and versions, nvmlErrorString and the event thread all run, and the watch reports what it finds.
/// </summary>
public sealed class NvmlStubEndToEndTests
{
    private const long Gib = 1L << 30;

    private static string? FindSource()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "ErrorCoordinator.Mcp.Tests", "EndToEnd", "NvmlStub", "nvml_stub.c");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static async Task<string?> BuildStubAsync(string source)
    {
        var dir = Directory.CreateTempSubdirectory("ec-nvml-stub-").FullName;
        var psi = new ProcessStartInfo("cc") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-shared", "-fPIC", "-O1", "-o", Path.Combine(dir, "libnvidia-ml.so.1"), source }) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            var stderr = await p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await p.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.True(p.ExitCode == 0, "cc failed: " + stderr);
            return dir;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no C compiler on this host
        }
    }

    [Fact]
    public async Task Probe_and_watch_read_the_stub_gpus_through_the_real_binding()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "the binding loads libnvidia-ml.so.1 on Linux only");
        var source = FindSource();
        Assert.SkipWhen(source is null, "nvml_stub.c not found beside the tests");
        var dir = await BuildStubAsync(source!);
        Assert.SkipWhen(dir is null, "no C compiler (cc) on this host to build the stand-in libnvidia-ml.so.1");

        await using var client = await McpClients.StdioAsync(
            ["--set", "ErrorCoordinator:Gpu:Agent=gpu-watch-stub", "--set", "ErrorCoordinator:Gpu:WatchInterval=00:00:01"],
            new Dictionary<string, string?> { ["LD_LIBRARY_PATH"] = dir });

        var probe = await client.CallAsync("probe_gpu", new { });
        Assert.True(probe.GetProperty("available").GetBoolean(), probe.GetRawText());
        Assert.Equal("999.99.99-stub", probe.GetProperty("driver_version").GetString());
        Assert.Equal(2, probe.GetProperty("device_count").GetInt32());
        var gpus = probe.GetProperty("gpus").EnumerateArray().ToArray();

        var a = gpus[0];
        Assert.Equal(("Stub GPU A 80GB", "GPU-5705b000-0000-0000-0000-000000000000"), (a.GetProperty("name").GetString(), a.GetProperty("uuid").GetString()));
        Assert.Equal((78 * Gib, 80 * Gib), (a.GetProperty("memory_used_bytes").GetInt64(), a.GetProperty("memory_total_bytes").GetInt64()));
        Assert.Equal((50, 90, 95), (a.GetProperty("temperature_c").GetInt32(), a.GetProperty("slowdown_temperature_c").GetInt32(), a.GetProperty("shutdown_temperature_c").GetInt32()));
        Assert.Equal((77, 33), (a.GetProperty("utilization_gpu_percent").GetInt32(), a.GetProperty("utilization_memory_percent").GetInt32()));
        Assert.Equal((250.5, 700.0), (a.GetProperty("power_draw_watts").GetDouble(), a.GetProperty("power_limit_watts").GetDouble()));
        Assert.Equal(["sw_power_cap"], a.GetProperty("clock_event_reasons").EnumerateArray().Select(x => x.GetString()!));
        Assert.Equal((3, 0), (a.GetProperty("ecc_corrected_volatile").GetInt32(), a.GetProperty("ecc_uncorrected_volatile").GetInt32()));
        Assert.Equal(JsonValueKind.Null, a.GetProperty("retired_pages_pending").ValueKind);
        Assert.Equal(["retired_pages_pending"], a.GetProperty("not_applicable").EnumerateArray().Select(x => x.GetString()!));
        Assert.Empty(a.GetProperty("read_errors").EnumerateObject());
        Assert.Equal((1, false), (a.GetProperty("remapped_rows_correctable").GetInt32(), a.GetProperty("row_remap_failure").GetBoolean()));
        var procs = a.GetProperty("processes").EnumerateArray().ToArray();
        Assert.Equal((4242u, 70 * Gib), (procs[0].GetProperty("pid").GetUInt32(), procs[0].GetProperty("used_memory_bytes").GetInt64()));
        Assert.Equal((4343u, JsonValueKind.Null), (procs[1].GetProperty("pid").GetUInt32(), procs[1].GetProperty("used_memory_bytes").ValueKind));
        Assert.Equal([("gpu_oom", "critical"), ("gpu_power_cap", "info")],
            a.GetProperty("findings").EnumerateArray().Select(f => (f.GetProperty("rule").GetString()!, f.GetProperty("severity").GetString()!)));

        var b = gpus[1];
        Assert.Equal(["temperature_slowdown", "temperature_shutdown", "utilization", "ecc_corrected", "ecc_uncorrected", "retired_pages_pending", "remapped_rows"],
            b.GetProperty("not_applicable").EnumerateArray().Select(x => x.GetString()!));
        Assert.Equal(JsonValueKind.Null, b.GetProperty("utilization_gpu_percent").ValueKind);
        Assert.Equal(0, b.GetProperty("processes").GetArrayLength());
        // 91 C with no driver threshold: the 90 C fallback makes it critical.
        Assert.Equal([("gpu_thermal", "critical")], b.GetProperty("findings").EnumerateArray().Select(f => (f.GetProperty("rule").GetString()!, f.GetProperty("severity").GetString()!)));

        var one = await client.CallAsync("probe_gpu", new { index = 1 });
        Assert.Equal(1, Assert.Single(one.GetProperty("gpus").EnumerateArray()).GetProperty("index").GetInt32());
        Assert.Contains("'index' is 2 but this host has 2 GPU(s)", await client.CallFailingAsync("probe_gpu", new { index = 2 }));

        // The watch reported the findings (and the stub's XID 79 event), once each, and opened gpu_tasks.
        string[] expected = ["gpu_oom", "gpu_thermal", "gpu_xid"];
        JsonElement[] events = [];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            events = (await client.CallAsync("query_errors", new { agent = "gpu-watch-stub" })).GetProperty("events").EnumerateArray().ToArray();
            if (expected.All(t => events.Any(e => e.GetProperty("error_type").GetString() == t))) break;
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
        Assert.Equal(expected, events.Select(e => e.GetProperty("error_type").GetString()!).Order());
        var xid = events.Single(e => e.GetProperty("error_type").GetString() == "gpu_xid");
        Assert.Equal(("79", "critical", "hardware"), (xid.GetProperty("code").GetString(), xid.GetProperty("severity").GetString(), xid.GetProperty("kind").GetString()));
        Assert.Equal("resource_exhaustion", events.Single(e => e.GetProperty("error_type").GetString() == "gpu_oom").GetProperty("category").GetString());

        var breaker = await client.CallAsync("check_breaker", new { component = "gpu_tasks" });
        Assert.Equal("open", breaker.GetProperty("state").GetString());
        Assert.False(breaker.GetProperty("allowed").GetBoolean());

        // More watch passes (1 s apart) add nothing: the same findings are deduplicated.
        await Task.Delay(2500, TestContext.Current.CancellationToken);
        var again = (await client.CallAsync("query_errors", new { agent = "gpu-watch-stub" })).GetProperty("events").GetArrayLength();
        Assert.Equal(3, again);
        Directory.Delete(dir!, recursive: true);
    }
}
