using System.ComponentModel;
using ModelContextProtocol.Server;

#pragma warning disable IDE1006

namespace ErrorCoordinator.Mcp.Prompts;

/// <summary>Prompts that walk an assistant through common coordination work.</summary>
[McpServerPromptType]
public sealed class ErrorPrompts
{
    [McpServerPrompt(Name = "triage_errors", Title = "Triage current errors")]
    [Description("Walk through the current error groups: find the biggest and newest problems, regressions, and what to do about each.")]
    public static string TriageErrors(
        [Description("Optional component to focus on, e.g. 'payments-api'.")] string? component = null,
        [Description("Optional agent to focus on.")] string? agent = null)
    {
        var scope = (component, agent) switch
        {
            (not null, not null) => $" for component '{component}' and agent '{agent}'",
            (not null, null) => $" for component '{component}'",
            (null, not null) => $" for agent '{agent}'",
            _ => "",
        };
        return $"""
            Triage the failures the error coordinator has recorded{scope}.
            1. Call list_error_groups with sort=count{(component is null ? "" : $", component={component}")}{(agent is null ? "" : $", agent={agent}")} and again with status=regressed.
            2. For the top groups, call get_error_group to read recent events and the 24-hour histogram: is it rising, steady or over?
            3. For each group say: what fails, how many agents see it, whether it is recoverable (retry) or needs a fix, and the next step.
            4. Mark groups that are fixed with update_error_group status=resolved and a note; ignore known noise with status=ignored.
            Keep the answer short: a table of group, count, agents, trend, next step.
            """;
    }

    [McpServerPrompt(Name = "report_failure_howto", Title = "How to report a failure well")]
    [Description("Guidance for an agent on reporting failures so they group correctly and help other agents.")]
    public static string ReportFailureHowTo() => """
        When a task or a dependency call fails, call report_failure with:
        - agent: your agent or job type (stable across runs, e.g. 'trainer', 'ci:unit-tests');
        - error_type: the exception class or error name (TimeoutError, CUDAError, ...);
        - message: the error text as is (ids and numbers are normalized for grouping; secrets are removed);
        - component: the dependency or subsystem that failed, so breakers and correlation can use it;
        - task_id, trace_id and stack when you have them.
        Read the answer: is_new_group tells you if this is a new problem, recoverable whether to retry,
        and recommendation what to do next. For many failures at once (a CI run), use report_failures.
        """;
}
