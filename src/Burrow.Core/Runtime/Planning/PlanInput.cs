using Burrow.Core.Identity;

namespace Burrow.Core.Runtime.Planning;

/// <summary>Everything the planner decides from: the request, the facts read beforehand and the identity decision.</summary>
public sealed record PlanInput(ActionRequest Request, HostFacts Host, ImageFacts Image, IdentityDecision Identity);
