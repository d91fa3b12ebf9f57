using System.ComponentModel;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Incidents;
using ModelContextProtocol;
using ModelContextProtocol.Server;

#pragma warning disable IDE1006

namespace ErrorCoordinator.Mcp.Prompts;

/// <summary>Prompts for incident work.</summary>
[McpServerPromptType]
public sealed class IncidentPrompts(PostmortemService postmortems)
{
    [McpServerPrompt(Name = "postmortem_review", Title = "Review a post-mortem")]
    [Description("Feeds a stored post-mortem to the model with review instructions: check it is blameless, complete and actionable, and that its root cause follows from the cited events.")]
    public async Task<string> PostmortemReview(
        [Description("The post-mortem id from generate_postmortem (e.g. pm_inc_...).")] string postmortem_id,
        CancellationToken cancellationToken = default)
    {
        Postmortem pm;
        try
        {
            pm = await postmortems.GetAsync(postmortem_id, cancellationToken);
        }
        catch (NotFoundException ex)
        {
            throw new McpProtocolException(ex.Message + " Generate it first with generate_postmortem.", McpErrorCode.InvalidParams);
        }
        catch (ValidationException ex)
        {
            throw new McpProtocolException(ex.Message, McpErrorCode.InvalidParams);
        }
        return $"""
            You are reviewing a post-mortem written by the error coordinator from recorded events. Review it as an SRE would in a
            post-incident review (Google SRE and PagerDuty practice): blameless, factual, actionable.

            1. Summary and impact: is the impact (agents, tasks, components, error counts) stated and consistent with the timeline?
            2. Timeline: is it complete from the first error to resolution? Every entry cites event ids; flag gaps longer than the
               incident's pace and entries whose message does not match the event type. Use get_incident {pm.IncidentId ?? "(none: a time range)"} or
               query_errors to check cited events when in doubt.
            3. Root cause: does the stated root cause follow from the ranked candidates, their evidence and the propagation path? If the
               correlation abstained, say what evidence is missing (dependencies not registered, trace ids not sent) instead of guessing.
               Separate the trigger (first event) from the root cause.
            4. Detection and response: comment on time to detect, to acknowledge (MTTA) and to resolve (MTTR) against the targets
               (detect < 30 s, resolve < 5 min).
            5. Action items: each must be specific, have a type (mitigate / prevent / process) and will need an owner; propose missing ones
               and drop vague ones. Check the rule-based recommendations apply.
            6. Language: remove blame on people or agents; describe systems and decisions.

            Answer with: a verdict (accept / revise), a short list of required changes, and a corrected action-item table
            (item | type | owner left blank).

            --- post-mortem {pm.Id} ---
            {pm.Markdown}
            """;
    }
}
