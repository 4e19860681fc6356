namespace Hookline.Core.Sandbox;

/// <summary>
/// The state machine of one kind of sandbox entity (DESIGN §6). Each catalogue event is a step from some
/// states to one state. Triggering an event on a new entity walks its path (the steps that lead to it from
/// creation, each publishing its event); triggering it on an existing entity (named by the id option) takes
/// that one step, if the entity's state allows it.
/// </summary>
internal sealed class EntityMachine(string kind, string idOption, Func<SandboxRun, string, SandboxEntity> create)
{
    private readonly Dictionary<string, Step> _steps = new(StringComparer.Ordinal);

    public string Kind { get; } = kind;

    /// <summary>
    /// Adds the step <paramref name="eventName"/>, allowed from <paramref name="from"/> (any state when empty),
    /// leading to <paramref name="to"/> (null: the state does not change). <paramref name="path"/> is the steps a
    /// new entity takes first.
    /// </summary>
    public EntityMachine On(string eventName, string[] from, string? to, Action<SandboxRun, SandboxEntity> apply, params string[] path)
    {
        _steps[eventName] = new Step(from, to, apply, [.. path, eventName]);
        return this;
    }

    public IEnumerable<string> Events => _steps.Keys;

    public void Run(SandboxRun run, string eventName)
    {
        var existing = run.FromOption(idOption, Kind);
        var entity = existing ?? create(run, eventName);
        foreach (var name in existing is null ? _steps[eventName].Path : [eventName])
        {
            var step = _steps[name];
            if (step.From.Length > 0 && !step.From.Contains(entity.State, StringComparer.Ordinal))
            {
                throw new SandboxException(
                    $"The {Kind} {entity.Id} is {entity.State.Replace('_', ' ')}; {name} needs it to be {string.Join(" or ", step.From.Select(s => s.Replace('_', ' ')))}.",
                    idOption);
            }

            run.Step();
            step.Apply(run, entity);
            entity.State = step.To ?? entity.State;
        }
    }

    private sealed record Step(string[] From, string? To, Action<SandboxRun, SandboxEntity> Apply, string[] Path);
}
