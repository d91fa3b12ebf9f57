using ErrorCoordinator.Core.Events;

namespace ErrorCoordinator.Core.Tests.Events;

public sealed class GlobPatternTests
{
    [Theory]
    [InlineData("events:errors:*", "events:errors:task_failures", true)]
    [InlineData("events:errors:*", "events:alerts:gpu", false)]
    [InlineData("events:*:gpu", "events:alerts:gpu", true)]
    [InlineData("h?llo", "hello", true)]
    [InlineData("h?llo", "hllo", false)]
    [InlineData("h[ae]llo", "hallo", true)]
    [InlineData("h[^e]llo", "hello", false)]
    [InlineData("h[a-c]llo", "hbllo", true)]
    [InlineData(@"a\*b", "a*b", true)]
    [InlineData(@"a\*b", "axb", false)]
    [InlineData("*", "", true)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "aXXbYY", false)]
    public void Matches_like_redis(string pattern, string text, bool expected) => Assert.Equal(expected, GlobPattern.IsMatch(pattern, text));

    [Fact]
    public void Can_ignore_case() => Assert.True(GlobPattern.IsMatch("*TIMEOUT*", "db timeout", ignoreCase: true));
}
