using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Hookline.Receiver.Tests;

public sealed class StandardWebhooksTests
{
    private const string Id = "evt_Hk9sPq2LmN4xYz";
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string OldSecret = "whsec_dGhlIG9sZCBzZWNyZXQgb2YgdGhpcyB3ZWJob29r";
    private const long SentAt = 1_700_000_000;

    private static readonly DateTimeOffset Sent = DateTimeOffset.FromUnixTimeSeconds(SentAt);
    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"entity":"event","event":"refund.processed","created_at":1700000000}""");

    private static string Timestamp(long seconds) => seconds.ToString(CultureInfo.InvariantCulture);

    private static SignatureCheck VerifyAt(DateTimeOffset now, string header, long timestamp = SentAt, byte[]? body = null)
        => StandardWebhooks.Verify(Id, Timestamp(timestamp), header, body ?? Body, Secret, now, Tolerance);

    [Fact]
    public void Fresh_signed_request_is_valid()
    {
        var header = StandardWebhooks.Sign(Id, SentAt, Body, Secret);

        Assert.Equal(SignatureCheck.Valid, VerifyAt(Sent.AddSeconds(2), header));
    }

    [Fact]
    public void Tampered_body_fails()
    {
        var header = StandardWebhooks.Sign(Id, SentAt, Body, Secret);
        var tampered = Encoding.UTF8.GetBytes("""{"entity":"event","event":"refund.processed","created_at":1700000001}""");

        Assert.Equal(SignatureCheck.NoMatchingSignature, VerifyAt(Sent, header, body: tampered));
    }

    [Fact]
    public void Signature_does_not_carry_over_to_another_message_id_or_timestamp()
    {
        var header = StandardWebhooks.Sign(Id, SentAt, Body, Secret);

        Assert.Equal(SignatureCheck.NoMatchingSignature,
            StandardWebhooks.Verify("evt_Other0000000x", Timestamp(SentAt), header, Body, Secret, Sent, Tolerance));
        Assert.Equal(SignatureCheck.NoMatchingSignature, VerifyAt(Sent, header, timestamp: SentAt + 1));
    }

    [Fact]
    public void Signature_with_one_character_changed_fails()
    {
        var header = StandardWebhooks.Sign(Id, SentAt, Body, Secret);
        var changed = header[..10] + (header[10] == 'A' ? 'B' : 'A') + header[11..];

        Assert.Equal(SignatureCheck.NoMatchingSignature, VerifyAt(Sent, changed));
    }

    [Fact]
    public void Timestamp_older_than_the_tolerance_is_rejected_even_with_a_good_signature()
    {
        var header = StandardWebhooks.Sign(Id, SentAt, Body, Secret);

        Assert.Equal(SignatureCheck.Valid, VerifyAt(Sent + Tolerance, header));
        Assert.Equal(SignatureCheck.TimestampOutOfTolerance, VerifyAt(Sent + Tolerance + TimeSpan.FromMilliseconds(1), header));
        Assert.Equal(SignatureCheck.TimestampOutOfTolerance, VerifyAt(Sent.AddDays(3), header));
    }

    [Fact]
    public void Timestamp_newer_than_the_tolerance_is_rejected()
    {
        var header = StandardWebhooks.Sign(Id, SentAt, Body, Secret);

        Assert.Equal(SignatureCheck.Valid, VerifyAt(Sent - Tolerance, header));
        Assert.Equal(SignatureCheck.TimestampOutOfTolerance, VerifyAt(Sent - Tolerance - TimeSpan.FromSeconds(1), header));
    }

    [Fact]
    public void Timestamp_beyond_the_calendar_is_out_of_tolerance_not_an_exception()
    {
        const long farFuture = 999_999_999_999_999;
        var header = StandardWebhooks.Sign(Id, farFuture, Body, Secret);

        Assert.Equal(SignatureCheck.TimestampOutOfTolerance, VerifyAt(Sent, header, timestamp: farFuture));
    }

    [Fact]
    public void Time_provider_overload_applies_the_default_five_minute_tolerance()
    {
        var header = StandardWebhooks.Sign(Id, SentAt, Body, Secret);
        var clock = new ManualTimeProvider(Sent);

        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(SignatureCheck.Valid, StandardWebhooks.Verify(Id, Timestamp(SentAt), header, Body, Secret, clock));
        Assert.Equal(SignatureCheck.Valid, StandardWebhooks.Verify(Id, Timestamp(SentAt), header, Body, [OldSecret, Secret], clock));

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(SignatureCheck.TimestampOutOfTolerance, StandardWebhooks.Verify(Id, Timestamp(SentAt), header, Body, Secret, clock));
        Assert.Equal(TimeSpan.FromMinutes(5), StandardWebhooks.DefaultTolerance);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1700000000")]
    [InlineData("+1700000000")]
    [InlineData(" 1700000000")]
    [InlineData("1700000000.5")]
    [InlineData("1,700,000,000")]
    [InlineData("\u0661\u0667\u0660\u0660")] // Arabic-Indic digits
    [InlineData("99999999999999999999")]
    public void Timestamp_that_is_not_plain_unix_seconds_is_invalid(string timestamp)
    {
        var header = StandardWebhooks.Sign(Id, SentAt, Body, Secret);

        Assert.Equal(SignatureCheck.InvalidTimestamp, StandardWebhooks.Verify(Id, timestamp, header, Body, Secret, Sent, Tolerance));
    }

    [Theory]
    [InlineData(null, "1700000000", "v1,x")]
    [InlineData("evt_Hk9sPq2LmN4xYz", null, "v1,x")]
    [InlineData("evt_Hk9sPq2LmN4xYz", "1700000000", null)]
    [InlineData("", "1700000000", "v1,x")]
    [InlineData("evt_Hk9sPq2LmN4xYz", "", "v1,x")]
    [InlineData("evt_Hk9sPq2LmN4xYz", "1700000000", "")]
    public void Missing_or_empty_header_is_reported(string? id, string? timestamp, string? header)
    {
        Assert.Equal(SignatureCheck.MissingHeaders, StandardWebhooks.Verify(id, timestamp, header, Body, Secret, Sent, Tolerance));
    }

    [Fact]
    public void Header_with_old_and_new_signatures_during_rotation_verifies_with_either_secret()
    {
        var header = StandardWebhooks.Sign(Id, SentAt, Body, OldSecret) + " " + StandardWebhooks.Sign(Id, SentAt, Body, Secret);

        Assert.Equal(SignatureCheck.Valid, StandardWebhooks.Verify(Id, Timestamp(SentAt), header, Body, Secret, Sent, Tolerance));
        Assert.Equal(SignatureCheck.Valid, StandardWebhooks.Verify(Id, Timestamp(SentAt), header, Body, OldSecret, Sent, Tolerance));
        Assert.Equal(SignatureCheck.NoMatchingSignature,
            StandardWebhooks.Verify(Id, Timestamp(SentAt), header, Body, "whsec_c29tZXRoaW5nIGVsc2U=", Sent, Tolerance));
    }

    [Fact]
    public void Receiver_holding_old_and_new_secrets_accepts_a_signature_by_either()
    {
        string[] secrets = [Secret, OldSecret];

        Assert.Equal(SignatureCheck.Valid,
            StandardWebhooks.Verify(Id, Timestamp(SentAt), StandardWebhooks.Sign(Id, SentAt, Body, OldSecret), Body, secrets, Sent, Tolerance));
        Assert.Equal(SignatureCheck.Valid,
            StandardWebhooks.Verify(Id, Timestamp(SentAt), StandardWebhooks.Sign(Id, SentAt, Body, Secret), Body, secrets, Sent, Tolerance));
    }

    [Fact]
    public void Many_candidate_secrets_beyond_the_stack_buffer_still_verify()
    {
        var secrets = Enumerable.Range(0, 9).Select(i => $"secret-{i}").ToList();
        var header = StandardWebhooks.Sign(Id, SentAt, Body, "secret-8");

        Assert.Equal(SignatureCheck.Valid, StandardWebhooks.Verify(Id, Timestamp(SentAt), header, Body, secrets, Sent, Tolerance));
    }

    [Fact]
    public void Unknown_signature_versions_are_ignored()
    {
        var good = StandardWebhooks.Sign(Id, SentAt, Body, Secret);

        Assert.Equal(SignatureCheck.Valid, VerifyAt(Sent, "v2,Zm9v v1a,YmFy " + good));
        Assert.Equal(SignatureCheck.NoMatchingSignature, VerifyAt(Sent, "v2" + good[2..]));
        Assert.Equal(SignatureCheck.NoMatchingSignature, VerifyAt(Sent, good[3..]));
    }

    [Fact]
    public void Signature_of_the_wrong_length_is_not_a_match()
    {
        var good = StandardWebhooks.Sign(Id, SentAt, Body, Secret);
        var mac = Convert.FromBase64String(good[3..]);

        Assert.Equal(SignatureCheck.NoMatchingSignature, VerifyAt(Sent, "v1," + Convert.ToBase64String(mac[..31])));
        Assert.Equal(SignatureCheck.NoMatchingSignature, VerifyAt(Sent, "v1," + Convert.ToBase64String([.. mac, 0])));
    }

    [Fact]
    public void Signature_covers_the_timestamp_text_as_sent()
    {
        // A sender that pads the timestamp signs the padded text; re-formatting it would break the signature.
        const string padded = "01700000000";
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(StandardWebhooks.KeyFromSecret(Secret), [.. Encoding.UTF8.GetBytes($"{Id}.{padded}."), .. Body], mac);

        Assert.Equal(SignatureCheck.Valid,
            StandardWebhooks.Verify(Id, padded, "v1," + Convert.ToBase64String(mac), Body, Secret, Sent, Tolerance));
    }

    [Fact]
    public void Caller_bugs_throw()
    {
        var header = StandardWebhooks.Sign(Id, SentAt, Body, Secret);

        Assert.Throws<ArgumentException>(() => StandardWebhooks.Verify(Id, "1700000000", header, Body, "", Sent, Tolerance));
        Assert.Throws<ArgumentException>(() => StandardWebhooks.Verify(Id, "1700000000", header, Body, Array.Empty<string>(), Sent, Tolerance));
        Assert.Throws<ArgumentOutOfRangeException>(() => StandardWebhooks.Verify(Id, "1700000000", header, Body, Secret, Sent, TimeSpan.FromSeconds(-1)));
    }
}
