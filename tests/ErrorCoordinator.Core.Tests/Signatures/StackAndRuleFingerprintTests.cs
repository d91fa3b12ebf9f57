using ErrorCoordinator.Core.Signatures;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Tests.Signatures;

public sealed class StackAndRuleFingerprintTests
{
    private static SignatureResult Compute(TemplateSignatureEngine engine, string message, string? stack = null, string type = "ValueError",
        string agent = "agent-a", IReadOnlyDictionary<string, string>? tags = null) =>
        engine.Compute(new SignatureInput(type, message, stack, agent, null, tags ?? new Dictionary<string, string>()));

    private static TemplateSignatureEngine Engine(params FingerprintRule[] rules) =>
        new(Options.Create(new SignatureOptions { Rules = [.. rules] }));

    private const string Python = """
        Traceback (most recent call last):
          File "/srv/app/handlers/payment.py", line 42, in charge
            total = compute(order)
          File "/usr/lib/python3.12/site-packages/requests/api.py", line 59, in request
            return session.request(method=method, url=url, **kwargs)
          File "/srv/app/billing/compute.py", line 7, in compute
            raise ValueError(order)
        ValueError: bad order 17
        """;

    [Fact]
    public void Same_stack_different_message_is_one_group()
    {
        var engine = Engine();
        var a = Compute(engine, "bad order 17", Python);
        var b = Compute(engine, "completely different text", Python);
        Assert.Equal(a.GroupId, b.GroupId);
        Assert.Equal("completely different text", b.Template);
    }

    [Fact]
    public void Line_numbers_and_checkout_paths_do_not_matter()
    {
        var engine = Engine();
        var moved = Python.Replace("line 42", "line 57").Replace("line 7,", "line 9,").Replace("/srv/app/", "/home/ci/build/app/");
        Assert.Equal(Compute(engine, "x", Python).GroupId, Compute(engine, "y", moved).GroupId);
    }

    [Fact]
    public void A_different_in_app_function_or_error_type_is_another_group()
    {
        var engine = Engine();
        Assert.NotEqual(Compute(engine, "x", Python).GroupId, Compute(engine, "x", Python.Replace("in compute", "in compute_tax")).GroupId);
        Assert.NotEqual(Compute(engine, "x", Python).GroupId, Compute(engine, "x", Python, type: "KeyError").GroupId);
    }

    [Fact]
    public void Python_frames_are_innermost_first_and_libraries_skipped()
    {
        Assert.Equal(["billing.compute:compute", "handlers.payment:charge"], StackFingerprinter.Fingerprint(Python, 5));
    }

    [Fact]
    public void Java_frames_skip_the_jdk()
    {
        const string stack = """
            java.lang.IllegalStateException: closed
                at java.base/java.util.Objects.requireNonNull(Objects.java:233)
                at java.util.concurrent.FutureTask.run(FutureTask.java:264)
                at com.acme.orders.OrderService.lambda$submit$3(OrderService.java:88)
                at com.acme.orders.OrderController.post(OrderController.java:41)
                ... 12 more
            """;
        Assert.Equal(["com.acme.orders.OrderService:lambda$submit$#", "com.acme.orders.OrderController:post"], StackFingerprinter.Fingerprint(stack, 5));
    }

    [Fact]
    public void Dotnet_frames_skip_system_and_drop_file_and_line()
    {
        const string stack = """
               at System.ThrowHelper.ThrowKeyNotFoundException[T](T key)
               at Acme.Billing.Invoices.Find(Int32 id) in /src/Billing/Invoices.cs:line 42
               at Acme.Billing.Api.<GetAsync>d__4.MoveNext() in /src/Billing/Api.cs:line 17
            """;
        Assert.Equal(["Acme.Billing.Invoices:Find", "Acme.Billing.Api.<GetAsync>d__#:MoveNext"], StackFingerprinter.Fingerprint(stack, 5));
    }

    [Fact]
    public void Node_frames_skip_node_modules_and_internals()
    {
        const string stack = """
            TypeError: Cannot read properties of undefined (reading 'id')
                at getUser (/app/src/users/service.js:10:15)
                at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)
                at async Router.route (file:///app/src/router.mjs:3:9)
                at process.processTicksAndRejections (node:internal/process/task_queues:95:5)
            """;
        Assert.Equal(["users/service.js:getUser", "src/router.mjs:Router.route"], StackFingerprinter.Fingerprint(stack, 5));
    }

    [Fact]
    public void Go_frames_skip_the_runtime_and_standard_library()
    {
        const string stack = """
            panic: runtime error: index out of range [5] with length 3

            goroutine 1 [running]:
            github.com/acme/svc/store.(*DB).Get(0xc000010000, {0x1, 0x2})
            	/home/u/svc/store/db.go:42 +0x1d
            net/http.HandlerFunc.ServeHTTP(0x0)
            	/usr/local/go/src/net/http/server.go:2136 +0x29
            main.main()
            	/home/u/svc/main.go:12 +0x25
            """;
        Assert.Equal(["github.com/acme/svc/store:(*DB).Get", "main:main"], StackFingerprinter.Fingerprint(stack, 5));
    }

    [Fact]
    public void Rust_frames_drop_the_hash_and_skip_std()
    {
        const string stack = """
               0: std::panicking::begin_panic::h0123456789abcdef
               1: myapp::db::connect::h3c1d7f5e9a2b4c6d
                         at ./src/db.rs:10:5
               2: myapp::main
            """;
        Assert.Equal(["myapp::db:connect", "myapp:main"], StackFingerprinter.Fingerprint(stack, 5));
    }

    [Fact]
    public void Only_the_top_frames_count()
    {
        Assert.Single(StackFingerprinter.Fingerprint(Python, 1));
        Assert.Empty(StackFingerprinter.Fingerprint("no frames here at all", 5));
    }

    [Fact]
    public void A_stack_without_frames_falls_back_to_the_message_template()
    {
        var engine = Engine();
        var a = Compute(engine, "user 1 not allowed", "garbage");
        var b = Compute(engine, "user 2 not allowed", null);
        Assert.Equal(a.GroupId, b.GroupId);
        Assert.Equal("user <*> not allowed", b.Template);
    }

    [Fact]
    public void A_rule_sets_the_fingerprint_and_title()
    {
        var engine = Engine(new FingerprintRule
        {
            Match = new() { ["error_type"] = "*Timeout*", ["tags.region"] = "eu-*" },
            Fingerprint = ["eu-timeouts"],
            Title = "Timeouts in the EU",
        });
        var eu = new Dictionary<string, string> { ["region"] = "eu-west-1" };
        var a = Compute(engine, "db timed out", type: "TimeoutError", tags: eu);
        var b = Compute(engine, "cache unreachable", type: "GatewayTimeout", tags: eu);
        Assert.Equal(a.GroupId, b.GroupId);
        Assert.Equal("Timeouts in the EU", a.Template);
        Assert.Equal(GroupIds.FromParts("rule", "eu-timeouts"), a.GroupId);
        // No region tag, or another region: the rule does not apply.
        Assert.NotEqual(a.GroupId, Compute(engine, "db timed out", type: "TimeoutError").GroupId);
        Assert.NotEqual(a.GroupId, Compute(engine, "db timed out", type: "TimeoutError", tags: new Dictionary<string, string> { ["region"] = "us-east-1" }).GroupId);
    }

    [Fact]
    public void Rule_variables_default_error_type_message_and_agent_expand()
    {
        var engine = Engine(new FingerprintRule
        {
            Match = new() { ["message"] = "*connection refused*", ["agent"] = "planner-*" },
            Fingerprint = ["{{ default }}", "{{ agent }}"],
        });
        var plain = Engine();
        var a = Compute(engine, "connection refused by 10.0.0.1", agent: "planner-1");
        var b = Compute(engine, "connection refused by 10.0.0.2", agent: "planner-2");
        Assert.NotEqual(a.GroupId, b.GroupId); // split per agent
        var @default = Compute(plain, "connection refused by 10.0.0.1").GroupId;
        Assert.Equal(GroupIds.FromParts("rule", @default, "planner-1"), a.GroupId);
        Assert.Equal("connection refused by <*>", a.Template);

        var byType = Engine(new FingerprintRule { Match = new() { ["message"] = "*" }, Fingerprint = ["{{ error_type }}", "{{message}}", "{{ tags.missing }}"] });
        Assert.Equal(GroupIds.FromParts("rule", "ValueError", "id <*> bad", ""), Compute(byType, "id 7 bad").GroupId);
    }

    [Fact]
    public void The_first_matching_rule_wins_and_non_matching_events_use_the_default()
    {
        var engine = Engine(
            new FingerprintRule { Match = new() { ["message"] = "*disk*" }, Fingerprint = ["disk"] },
            new FingerprintRule { Match = new() { ["message"] = "*" }, Fingerprint = ["everything-else"] });
        Assert.Equal(GroupIds.FromParts("rule", "disk"), Compute(engine, "DISK full").GroupId); // globs are case-insensitive
        Assert.Equal(GroupIds.FromParts("rule", "everything-else"), Compute(engine, "cpu hot").GroupId);
        Assert.NotEqual(GroupIds.FromParts("rule", "disk"), Compute(Engine(), "DISK full").GroupId);
    }

    [Fact]
    public void Rules_without_a_known_matcher_or_a_fingerprint_are_invalid()
    {
        Assert.NotEmpty(FingerprintRules.Validate([new FingerprintRule { Match = new() { ["colour"] = "red" }, Fingerprint = ["x"] }]));
        Assert.NotEmpty(FingerprintRules.Validate([new FingerprintRule { Match = new() { ["message"] = "*" } }]));
        Assert.NotEmpty(FingerprintRules.Validate([new FingerprintRule { Fingerprint = ["x"] }]));
        Assert.Empty(FingerprintRules.Validate([new FingerprintRule { Match = new() { ["tags.env"] = "prod" }, Title = "Prod" }]));
    }
}
