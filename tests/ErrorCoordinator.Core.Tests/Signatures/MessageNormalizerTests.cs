using ErrorCoordinator.Core.Signatures;

namespace ErrorCoordinator.Core.Tests.Signatures;

public sealed class MessageNormalizerTests
{
    private static string N(string message) => MessageNormalizer.Default.Normalize(message);

    [Theory]
    [InlineData("mail to alice.smith+x@example.co.uk failed", "mail to <*> failed")]
    [InlineData("GET https://api.example.com/v1/users?id=3 returned 500", "GET <*> returned <*>")]
    [InlineData("cannot reach db-primary.prod.example.com:5432", "cannot reach <*>")]
    [InlineData("connect to 10.251.71.240:50010 refused", "connect to <*> refused")]
    [InlineData("src: /10.250.19.102:54106 dest: /10.250.19.102:50010", "src: <*> dest: <*>")]
    [InlineData("peer 2001:db8::8a2e:370:7334 and fe80::1%eth0 down", "peer <*> and <*> down")]
    [InlineData("listening on [::1]:8080", "listening on <*>")]
    [InlineData("trace 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 dropped", "trace <*> dropped")]
    [InlineData("task 3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a6b failed", "task <*> failed")]
    [InlineData("sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 md5 d41d8cd98f00b204e9800998ecf8427e", "sha1 <*> md5 <*>")]
    [InlineData("sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ok", "sha256 <*> ok")]
    [InlineData("deployed commit 9fceb02 to prod", "deployed commit <*> to prod")]
    [InlineData("register 0x7fff5fbff8a8 at 0xDEADBEEF", "register <*> at <*>")]
    [InlineData("took 300ms then 1.5s then 5m then 1h30m", "took <*> then <*> then <*> then <*>")]
    [InlineData("retry 3 of 10 after -2 and 3.25e-4", "retry <*> of <*> after <*> and <*>")]
    [InlineData("estimated size 5.2 KB, free 850.0 B", "estimated size <*>, free <*>")]
    [InlineData("disk 93% full", "disk <*> full")]
    public void Sentry_parameterization_classes_become_placeholders(string message, string expected) =>
        Assert.Equal(expected, N(message));

    [Theory]
    [InlineData("at 2015-10-18T18:01:47.978Z done", "at <*> done")]
    [InlineData("at 2015-10-18 18:01:47,978 done", "at <*> done")]
    [InlineData("Jun 14 15:16:01 combo sshd started", "<*> combo sshd started")]
    [InlineData("Date: Tue, 15 Nov 1994 08:12:31 GMT sent", "Date: <*> sent")]
    [InlineData("081109 203615 148 INFO", "<*> INFO")] // date-time, then a pid: adjacent values collapse into one
    [InlineData("Thu Jun 14 15:16:01 UTC 2016 boot", "<*> boot")]
    [InlineData("expires 2024/01/31 soon", "expires <*> soon")]
    [InlineData("at 15:16:01.123 tick", "at <*> tick")]
    public void Dates_and_times_in_common_formats_become_one_placeholder(string message, string expected) =>
        Assert.Equal(expected, N(message));

    [Theory]
    [InlineData("cannot open /var/lib/app/data/file-42.db", "cannot open <*>")]
    [InlineData("temp dir /tmp/pytest-of-u/pytest-3/test0 left", "temp dir <*> left")]
    [InlineData(@"cannot open C:\Users\bob\AppData\Local\Temp\x.tmp", "cannot open <*>")]
    [InlineData("edit src/app/main.py please", "edit <*> please")]
    [InlineData("removed tmpa8x9k2lq", "removed <*>")]
    [InlineData("PacketResponder 1 for block blk_-6952295868487656571 terminating", "PacketResponder <*> for block blk_<*> terminating")]
    [InlineData("Block broadcast_39 stored and rdd_42_20 too", "Block broadcast_<*> stored and rdd_<*>_<*> too")]
    [InlineData("request_id=abc123 user=bob latency_ms=35", "request_id=<*> user=<*> latency_ms=<*>")]
    [InlineData("sshd[1234]: session opened", "sshd[<*>]: session opened")]
    [InlineData("pid 4242 exited", "pid <*> exited")]
    [InlineData("host msra-sa-41:8030 down", "host msra-sa-<*>:<*> down")]
    [InlineData("generating core.114", "generating core.<*>")]
    [InlineData("package KB3163245 applied", "package KB<*> applied")]
    [InlineData("queue jA9J1dQ7016560 flushed", "queue <*> flushed")]
    [InlineData("delete blk_1 blk_2 blk_3 now", "delete blk_<*> now")]
    [InlineData("scrubbed [Filtered] value", "scrubbed <*> value")]
    public void Beyond_sentry_paths_ids_pids_ports_and_key_values(string message, string expected) =>
        Assert.Equal(expected, N(message));

    [Fact]
    public void Ansi_colour_codes_are_stripped() =>
        Assert.Equal("ERROR failed <*> times", N("\u001b[31mERROR\u001b[0m failed \u001b[1;33m3\u001b[0m times"));

    [Theory]
    [InlineData("called Foo::bar twice")]
    [InlineData("std::vector::at out of range")]
    [InlineData("using utf8 and log4j on x86_64 with ipv6")]
    [InlineData("hash sha256 with base64 on amd64 Win32 v2")]
    [InlineData("encoding utf-8 not iso-8859-1")]
    [InlineData("protocol HTTP/1.1 and HTTP/2 only")]
    [InlineData("requires TLSv1.2 and python3.11 or v1.2.3")]
    [InlineData("java.io.IOException in org.apache.hadoop.ipc.Client")]
    [InlineData("setup.py and index.json and README.md")]
    [InlineData("content type application/json or read/write")]
    [InlineData("face added decade")]
    [InlineData("Fan speeds ( **** )")]
    public void Template_text_with_digits_or_dots_is_not_masked(string message) =>
        Assert.Equal(message, N(message));

    [Fact]
    public void Bare_versions_are_masked_as_numbers_by_design() =>
        Assert.Equal("upgrading to <*>", N("upgrading to 2.4.0"));

    [Fact]
    public void Punctuation_around_a_value_is_kept() =>
        Assert.Equal("failed (code <*>), retry [<*>]: \"<*>\".", N("failed (code 42), retry [3]: \"10.0.0.1\"."));

    [Fact]
    public void Empty_and_blank_messages_normalize_to_empty() =>
        Assert.Equal("", N("   "));
}
