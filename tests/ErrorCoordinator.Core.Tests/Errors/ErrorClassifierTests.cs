using ErrorCoordinator.Core.Errors;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Tests.Errors;

public sealed class ErrorClassifierTests
{
    private static readonly ErrorClassifier Default = new(Options.Create(new ClassificationOptions()));

    [Theory]
    // The original design's rules.
    [InlineData("OutOfMemoryError", Severity.Critical, ErrorCategory.ResourceExhaustion, false)]
    [InlineData("CUDAError", Severity.Critical, ErrorCategory.Infrastructure, false)]
    [InlineData("TimeoutError", Severity.Warning, ErrorCategory.Timeout, true)]
    [InlineData("NetworkError", Severity.Warning, ErrorCategory.Integration, true)]
    [InlineData("TemporaryError", Severity.Error, ErrorCategory.Application, true)]
    // The rest of the taxonomy.
    [InlineData("PermissionError", Severity.Error, ErrorCategory.Permission, false)]
    [InlineData("JSONDecodeError", Severity.Error, ErrorCategory.Data, false)]
    [InlineData("RateLimitExceeded", Severity.Warning, ErrorCategory.External, true)]
    [InlineData("ServiceUnavailable", Severity.Error, ErrorCategory.External, true)]
    [InlineData("DiskFullError", Severity.Critical, ErrorCategory.ResourceExhaustion, false)]
    [InlineData("NaNLossError", Severity.Critical, ErrorCategory.Data, false)]
    [InlineData("ValueError", Severity.Error, ErrorCategory.Application, false)]
    public void Classifies_by_the_rule_table(string type, Severity severity, ErrorCategory category, bool recoverable)
    {
        var c = Default.Classify(type, "message", null);
        Assert.Equal((severity, category, recoverable), (c.Severity, c.Category, c.Recoverable));
        Assert.False(string.IsNullOrWhiteSpace(c.Recommendation));
    }

    [Theory]
    [InlineData("CUDAError", "hardware")]
    [InlineData("NaNLossError", "training")]
    [InlineData("GradientExplosion", "training")]
    [InlineData("AgentCrash", "agent_crashes")]
    [InlineData("TimeoutError", "task_failures")]
    public void Kind_follows_the_rule(string type, string kind) => Assert.Equal(kind, Default.Classify(type, "m", null).Kind);

    [Theory]
    [InlineData("FinancialReportError")] // contains "nan" but is not a NaN loss
    [InlineData("ExecCommandError")]     // contains "ecc" but is not an ECC error
    public void Substrings_inside_words_do_not_trigger_rules(string type)
    {
        var c = Default.Classify(type, "m", null);
        Assert.Equal("fallback", c.Rule);
    }

    [Fact]
    public void Configured_rules_run_before_the_defaults_and_can_match_message_and_code()
    {
        var options = new ClassificationOptions
        {
            Rules =
            [
                new ClassificationRule { Name = "stripe-declined", ErrorType = "^PaymentError$", Code = "^card_declined$", Severity = Severity.Info,
                    Category = ErrorCategory.External, Recoverable = false, Recommendation = "Ask the customer for another card." },
                new ClassificationRule { Name = "timeouts-are-errors-here", ErrorType = "Timeout", Message = "checkout", Severity = Severity.Error,
                    Category = ErrorCategory.Timeout, Recoverable = true },
            ],
        };
        var c = new ErrorClassifier(Options.Create(options));
        Assert.Equal("stripe-declined", c.Classify("PaymentError", "declined", "card_declined").Rule);
        Assert.Equal("fallback", c.Classify("PaymentError", "declined", "expired").Rule);
        Assert.Equal(Severity.Error, c.Classify("TimeoutError", "checkout took too long", null).Severity);
        Assert.Equal(Severity.Warning, c.Classify("TimeoutError", "search took too long", null).Severity);
    }

    [Fact]
    public void Defaults_can_be_switched_off()
    {
        var c = new ErrorClassifier(Options.Create(new ClassificationOptions
        {
            KeepDefaultRules = false,
            Rules = [new ClassificationRule { ErrorType = "Only", Severity = Severity.Info }],
        }));
        Assert.Equal("fallback", c.Classify("TimeoutError", "m", null).Rule);
    }
}
