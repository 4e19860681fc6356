using Hookline.Core.Delivery;
using Hookline.Testing;

namespace Hookline.Core.Tests.Delivery;

public sealed class OrdinaryRoundPacingTests
{
    private static readonly TimeSpan Rest = TimeSpan.FromMilliseconds(250);

    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void The_first_round_always_runs()
    {
        Assert.False(new OrdinaryRoundPacing(_time, Rest).MayRest());
    }

    [Fact]
    public void An_empty_round_that_left_out_only_deep_lanes_rests_until_its_time_is_up()
    {
        var pacing = Ran(leased: 0, leftOutOnlyDeepLanes: true);

        Assert.True(pacing.MayRest());
        _time.Advance(Rest - TimeSpan.FromMilliseconds(1));
        Assert.True(pacing.MayRest());
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(pacing.MayRest());
    }

    [Fact]
    public void A_round_that_leased_something_does_not_rest()
    {
        Assert.False(Ran(leased: 1, leftOutOnlyDeepLanes: true).MayRest());
    }

    [Fact]
    public void An_empty_round_that_left_out_a_full_lane_does_not_rest_for_the_lane_may_have_room_at_any_moment()
    {
        Assert.False(Ran(leased: 0, leftOutOnlyDeepLanes: false).MayRest());
    }

    [Fact]
    public void Announced_work_ends_the_rest_and_the_next_round_clears_it()
    {
        var pacing = Ran(leased: 0, leftOutOnlyDeepLanes: true);

        pacing.WorkArrived();
        Assert.False(pacing.MayRest());

        pacing.Starting();
        pacing.Finished(leased: 0, leftOutOnlyDeepLanes: true);
        Assert.True(pacing.MayRest());
    }

    [Fact]
    public void Work_announced_while_a_round_runs_is_not_lost_to_that_rounds_result()
    {
        var pacing = new OrdinaryRoundPacing(_time, Rest);

        pacing.Starting();
        pacing.WorkArrived();
        pacing.Finished(leased: 0, leftOutOnlyDeepLanes: true);

        Assert.False(pacing.MayRest());
    }

    private OrdinaryRoundPacing Ran(int leased, bool leftOutOnlyDeepLanes)
    {
        var pacing = new OrdinaryRoundPacing(_time, Rest);
        pacing.Starting();
        pacing.Finished(leased, leftOutOnlyDeepLanes);
        return pacing;
    }
}
