using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;

namespace ErrorCoordinator.Core.Tests.Errors;

public sealed class FailureValidatorTests : IDisposable
{
    private readonly TestServices _s = new();
    private FailureValidator Validator => _s.Get<FailureValidator>();

    public void Dispose() => _s.Dispose();

    [Theory]
    [InlineData("agent")]
    [InlineData("error_type")]
    [InlineData("message")]
    public void Required_fields_are_named_when_missing(string field)
    {
        var r = TestServices.Report();
        r = field switch
        {
            "agent" => r with { Agent = "  " },
            "error_type" => r with { ErrorType = "" },
            _ => r with { Message = "" },
        };
        var ex = Assert.Throws<ValidationException>(() => Validator.Validate(r));
        Assert.Equal(field, ex.Field);
        Assert.Contains($"'{field}' is required", ex.Message);
    }

    [Fact]
    public void Message_over_16_KiB_is_refused_naming_the_limit()
    {
        var ex = Assert.Throws<ValidationException>(() => Validator.Validate(TestServices.Report(new string('x', 16 * 1024 + 1))));
        Assert.Equal("message", ex.Field);
        Assert.Contains("16384 bytes", ex.Message);
        Validator.Validate(TestServices.Report(new string('x', 16 * 1024)));
    }

    [Fact]
    public void Message_limit_counts_utf8_bytes_not_characters()
    {
        // 6,000 three-byte characters = 18,000 bytes: over the limit although under 16,384 characters.
        var ex = Assert.Throws<ValidationException>(() => Validator.Validate(TestServices.Report(new string('€', 6000))));
        Assert.Contains("18000 bytes", ex.Message);
    }

    [Fact]
    public void Stack_over_64_KiB_is_refused()
    {
        var ex = Assert.Throws<ValidationException>(() => Validator.Validate(TestServices.Report() with { Stack = new string('s', 64 * 1024 + 1) }));
        Assert.Equal("stack", ex.Field);
        Assert.Contains("65536 bytes", ex.Message);
    }

    [Fact]
    public void Names_over_200_characters_are_refused()
    {
        foreach (var (field, report) in new[]
                 {
                     ("agent", TestServices.Report(agent: new string('a', 201))),
                     ("component", TestServices.Report(component: new string('c', 201))),
                     ("task_id", TestServices.Report() with { TaskId = new string('t', 201) }),
                     ("trace_id", TestServices.Report() with { TraceId = new string('t', 201) }),
                 })
        {
            var ex = Assert.Throws<ValidationException>(() => Validator.Validate(report));
            Assert.Equal(field, ex.Field);
            Assert.Contains("limit of 200 characters", ex.Message);
        }
    }

    [Fact]
    public void Tags_are_limited_in_count_and_length()
    {
        var many = Enumerable.Range(0, 33).ToDictionary(i => $"k{i}", i => "v");
        var ex = Assert.Throws<ValidationException>(() => Validator.Validate(TestServices.Report() with { Tags = many }));
        Assert.Equal("tags", ex.Field);
        Assert.Contains("limit is 32 tags", ex.Message);

        var longValue = new Dictionary<string, string> { ["region"] = new string('v', 257) };
        ex = Assert.Throws<ValidationException>(() => Validator.Validate(TestServices.Report() with { Tags = longValue }));
        Assert.Contains("tags.region", ex.Message);
        Assert.Contains("256 characters", ex.Message);
    }

    [Theory]
    [InlineData("severity", "fatal", "critical, error, warning, info")]
    [InlineData("category", "network", "infrastructure, application")]
    public void Enum_values_are_checked(string field, string value, string listed)
    {
        var r = field == "severity" ? TestServices.Report() with { Severity = value } : TestServices.Report() with { Category = value };
        var ex = Assert.Throws<ValidationException>(() => Validator.Validate(r));
        Assert.Equal(field, ex.Field);
        Assert.Contains(listed, ex.Message);
    }

    [Theory]
    [InlineData("2026-12-04 12:00:00")]
    [InlineData("2026-12-04T12:00:00")]
    [InlineData("yesterday")]
    [InlineData("2026-13-01T00:00:00Z")]
    [InlineData("1733313600")]
    public void Timestamps_are_parsed_strictly(string value)
    {
        var ex = Assert.Throws<ValidationException>(() => Validator.Validate(TestServices.Report() with { OccurredAt = value }));
        Assert.Equal("occurred_at", ex.Field);
        Assert.Contains("ISO-8601", ex.Message);
    }

    [Fact]
    public void Timestamps_with_offsets_are_normalised_to_utc()
    {
        var v = Validator.Validate(TestServices.Report() with { OccurredAt = "2026-12-04T14:30:00.250+02:00" });
        Assert.Equal(new DateTimeOffset(2026, 12, 4, 12, 30, 0, 250, TimeSpan.Zero), v.OccurredAt);
        Assert.Equal(TimeSpan.Zero, v.OccurredAt.Offset);
    }

    [Fact]
    public void Occurred_at_more_than_a_day_ahead_is_refused()
    {
        var ahead = TestServices.Start.AddDays(1).AddMinutes(1).ToString("O");
        var ex = Assert.Throws<ValidationException>(() => Validator.Validate(TestServices.Report() with { OccurredAt = ahead }));
        Assert.Equal("occurred_at", ex.Field);
        Assert.Contains("in the future", ex.Message);
        Validator.Validate(TestServices.Report() with { OccurredAt = TestServices.Start.AddHours(23).ToString("O") });
    }

    [Fact]
    public void Text_that_is_not_valid_unicode_is_refused_naming_the_field()
    {
        var ex = Assert.Throws<ValidationException>(() => Validator.Validate(TestServices.Report(agent: "agent\ud800")));
        Assert.Equal("agent", ex.Field);
        Assert.Contains("not valid Unicode", ex.Message);
        ex = Assert.Throws<ValidationException>(() => Validator.Validate(TestServices.Report("bad \udc00 text")));
        Assert.Equal("message", ex.Field);
        // A proper surrogate pair (an emoji) is fine.
        Validator.Validate(TestServices.Report("disk full \ud83d\udca5", agent: "agent-\ud83d\ude80"));
    }

    [Fact]
    public void Limits_come_from_configuration()
    {
        using var s = new TestServices(new Dictionary<string, string?> { ["ErrorCoordinator:Limits:MaxNameLength"] = "20" });
        var ex = Assert.Throws<ValidationException>(() => s.Get<FailureValidator>().Validate(TestServices.Report(agent: new string('a', 21))));
        Assert.Contains("limit of 20 characters", ex.Message);
    }
}
