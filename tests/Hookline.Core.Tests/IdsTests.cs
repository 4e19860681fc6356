namespace Hookline.Core.Tests;

public sealed class IdsTests
{
    [Fact]
    public void New_ids_are_valid_unique_and_sort_in_the_order_they_were_made()
    {
        var ids = Enumerable.Range(0, 20_000).Select(_ => Ids.New(Ids.Delivery)).ToList();

        Assert.All(ids, id => Assert.True(Ids.IsValid(id, Ids.Delivery), id));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());

        // The time part (seven characters after the prefix) never goes backwards, compared as the database does.
        var times = ids.Select(id => id.Substring(Ids.Delivery.Length, 7)).ToList();
        for (var i = 1; i < times.Count; i++)
        {
            Assert.True(string.CompareOrdinal(times[i - 1], times[i]) <= 0, $"{ids[i - 1]} was made before {ids[i]}");
        }
    }
}
