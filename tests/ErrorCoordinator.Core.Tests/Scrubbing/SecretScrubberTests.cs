using ErrorCoordinator.Core.Scrubbing;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Tests.Scrubbing;

public sealed class SecretScrubberTests
{
    private static SecretScrubber Make(Action<ScrubbingOptions>? configure = null)
    {
        var o = new ScrubbingOptions();
        configure?.Invoke(o);
        return new SecretScrubber(Options.Create(o));
    }

    private static readonly SecretScrubber Scrubber = Make();

    [Theory]
    [InlineData("login failed password=hunter2 for bob", "login failed password=[Filtered] for bob")]
    [InlineData("config: {\"api_key\": \"sk-abcdef123456\", \"region\": \"eu\"}", "config: {\"api_key\": \"[Filtered]\", \"region\": \"eu\"}")]
    [InlineData("db_password: 'p@ss w0rd'", "db_password: '[Filtered]'")]
    [InlineData("client_secret=abc123&scope=read", "client_secret=[Filtered]&scope=read")]
    [InlineData("x-auth-token: abc.def.ghi", "x-auth-token: [Filtered]")]
    [InlineData("credentials=aws:1234", "credentials=[Filtered]")]
    [InlineData("PRIVATE_KEY=MIIEvQIBADANBg", "PRIVATE_KEY=[Filtered]")]
    public void Values_of_sensitive_keys_are_removed(string input, string expected) => Assert.Equal(expected, Scrubber.Scrub(input));

    [Theory]
    [InlineData("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig rejected")]
    [InlineData("sent header Bearer abcdefghijklmnop0123456789 to upstream")]
    public void Bearer_tokens_are_removed(string input)
    {
        var s = Scrubber.Scrub(input)!;
        Assert.Contains("[Filtered]", s);
        Assert.DoesNotContain("abcdefghijklmnop0123456789", s);
        Assert.DoesNotContain("payload.sig", s);
    }

    [Fact]
    public void Card_numbers_are_removed_only_when_they_pass_luhn()
    {
        Assert.Equal("charge [Filtered] failed", Scrubber.Scrub("charge 4111 1111 1111 1111 failed"));
        Assert.Equal("card [Filtered] declined", Scrubber.Scrub("card 5500-0000-0000-0004 declined"));
        // Long numbers that are not cards (block ids, timestamps) stay, so grouping still sees them as numbers.
        Assert.Equal("block 1234567890123456 missing", Scrubber.Scrub("block 1234567890123456 missing"));
        Assert.Equal("blk_-6952295868487656571 served", Scrubber.Scrub("blk_-6952295868487656571 served"));
    }

    [Fact]
    public void Pem_private_key_blocks_are_removed()
    {
        var input = "loaded key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234\nabcd==\n-----END RSA PRIVATE KEY-----\nthen failed";
        var s = Scrubber.Scrub(input)!;
        Assert.DoesNotContain("MIIEowIBAAKCAQEA1234", s);
        Assert.Contains("then failed", s);
        Assert.Contains("[Filtered]", s);
    }

    [Fact]
    public void Url_credentials_keep_the_user_and_drop_the_password()
    {
        Assert.Equal("cannot reach postgres://app:[Filtered]@db.internal:5432/prod",
            Scrubber.Scrub("cannot reach postgres://app:s3cr3t!@db.internal:5432/prod"));
        Assert.Equal("GET https://example.com/a?b=1 failed", Scrubber.Scrub("GET https://example.com/a?b=1 failed"));
    }

    [Theory]
    [InlineData("cannot reach redis://:s3cr3t@cache:6379/0", "cannot reach redis://:[Filtered]@cache:6379/0")]
    [InlineData("login to ftp://bob:p@ss@files.example.com failed", "login to ftp://bob:[Filtered]@files.example.com failed")]
    [InlineData("body {\"password\":\"ab\\\"cd\",\"user\":\"x\"}", "body {\"password\":\"[Filtered]\",\"user\":\"x\"}")]
    [InlineData("ran: psql --password hunter2 --host db", "ran: psql --password [Filtered] --host db")]
    [InlineData("cli --api-key abc123 failed", "cli --api-key [Filtered] failed")]
    public void Harder_forms_of_secrets_are_removed(string input, string expected) => Assert.Equal(expected, Scrubber.Scrub(input));

    [Theory]
    [InlineData("openai rejected sk-proj-abcdefghijklmnopqrstuvwxyz0123456789")]
    [InlineData("anthropic rejected sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789")]
    [InlineData("legacy key sk-abcdefghijklmnopqrstuvwxyz0123")]
    public void Llm_provider_keys_are_removed(string input)
    {
        var s = Scrubber.Scrub(input)!;
        Assert.EndsWith("[Filtered]", s);
        Assert.DoesNotContain("abcdefghijklmnop", s);
    }

    [Fact]
    public void Flags_without_a_value_or_before_another_flag_are_left_alone()
    {
        Assert.Equal("usage: tool --password --verbose", Scrubber.Scrub("usage: tool --password --verbose"));
    }

    [Theory]
    [InlineData("key AKIAIOSFODNN7EXAMPLE leaked")]
    [InlineData("token ghp_abcdefghijklmnopqrstuvwxyz0123456789 used")]
    [InlineData("jwt eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U here")]
    [InlineData("slack xoxb-123456789012-abcdefghijkl posted")]
    public void Well_known_token_formats_are_removed(string input)
    {
        var s = Scrubber.Scrub(input)!;
        Assert.Contains("[Filtered]", s);
        Assert.DoesNotContain("AKIAIOSFODNN7EXAMPLE", s);
        Assert.DoesNotContain("ghp_abc", s);
        Assert.DoesNotContain("dozjgNryP4J3", s);
        Assert.DoesNotContain("xoxb-1234", s);
    }

    [Fact]
    public void Ordinary_messages_are_untouched()
    {
        const string m = "TimeoutError: call to payments-api took 3000 ms (attempt 2 of 3) at 10.0.0.7:8443, user bob@example.com";
        Assert.Equal(m, Scrubber.Scrub(m));
    }

    [Fact]
    public void Emails_and_ips_are_removed_when_enabled()
    {
        var s = Make(o => { o.ScrubEmails = true; o.ScrubIpAddresses = true; });
        Assert.Equal("user [email] from [ip] and [ip]", s.Scrub("user bob@example.com from 10.0.0.7 and 2001:db8::1"));
    }

    [Fact]
    public void Tags_with_sensitive_keys_lose_their_values_and_others_are_scrubbed()
    {
        var tags = Scrubber.ScrubTags(new Dictionary<string, string>
        {
            ["auth_token"] = "abc",
            ["Session_ID"] = "s-1",
            ["region"] = "eu-west-1",
            ["note"] = "password=x",
        });
        Assert.Equal("[Filtered]", tags["auth_token"]);
        Assert.Equal("[Filtered]", tags["Session_ID"]);
        Assert.Equal("eu-west-1", tags["region"]);
        Assert.Equal("password=[Filtered]", tags["note"]);
    }

    [Fact]
    public void Scrubbing_can_be_disabled_and_configured()
    {
        Assert.Equal("password=x", Make(o => o.Enabled = false).Scrub("password=x"));
        var custom = Make(o => { o.SensitiveKeys = ["pin"]; o.Replacement = "***"; });
        Assert.Equal("pin=***", custom.Scrub("pin=1234"));
        Assert.Equal("password=x", custom.Scrub("password=x"));
    }
}
