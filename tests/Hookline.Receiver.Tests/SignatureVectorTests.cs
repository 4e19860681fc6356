namespace Hookline.Receiver.Tests;

/// <summary>The Python-computed vectors of testdata/signatures, checked against the library.</summary>
public sealed class SignatureVectorTests
{
    public static TheoryData<string> Signing => SignatureVectors.Names("signing");

    public static TheoryData<string> RazorpayVerify => SignatureVectors.Names("razorpay_verify");

    public static TheoryData<string> StandardVerify => SignatureVectors.Names("standard_verify");

    public static TheoryData<string> Diagnosis => SignatureVectors.Names("diagnosis");

    [Fact]
    public void Vector_file_has_the_cases_it_promises()
    {
        Assert.True(Signing.Count >= 12);
        Assert.True(RazorpayVerify.Count >= 10);
        Assert.True(StandardVerify.Count >= 15);
    }

    [Theory]
    [MemberData(nameof(Signing))]
    public void Razorpay_signature_matches_the_vector(string name)
    {
        var vector = SignatureVectors.Find("signing", name);
        var body = SignatureVectors.Body(vector);
        var secret = vector.GetProperty("secret").GetString()!;
        var expected = vector.GetProperty("razorpay_signature").GetString()!;

        Assert.Equal(expected, WebhookSignature.Compute(body, secret));
        Assert.True(WebhookSignature.Verify(body, expected, secret));
    }

    [Theory]
    [MemberData(nameof(Signing))]
    public void Standard_Webhooks_key_matches_the_vector(string name)
    {
        var vector = SignatureVectors.Find("signing", name);
        var secret = vector.GetProperty("secret").GetString()!;

        Assert.Equal(vector.GetProperty("standard_key_base64").GetString(), Convert.ToBase64String(StandardWebhooks.KeyFromSecret(secret)));
    }

    [Theory]
    [MemberData(nameof(Signing))]
    public void Standard_Webhooks_signature_matches_the_vector_and_verifies(string name)
    {
        var vector = SignatureVectors.Find("signing", name);
        var body = SignatureVectors.Body(vector);
        var secret = vector.GetProperty("secret").GetString()!;
        var id = vector.GetProperty("message_id").GetString()!;
        var timestamp = vector.GetProperty("timestamp").GetInt64();
        var expected = vector.GetProperty("standard_signature").GetString()!;

        Assert.Equal(expected, StandardWebhooks.Sign(id, timestamp, body, secret));
        Assert.Equal(expected, StandardWebhooks.Sign(id, timestamp, body, StandardWebhooks.KeyFromSecret(secret)));
        Assert.Equal(SignatureCheck.Valid, StandardWebhooks.Verify(
            id, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture), expected, body, secret,
            DateTimeOffset.FromUnixTimeSeconds(timestamp), StandardWebhooks.DefaultTolerance));
    }

    [Theory]
    [MemberData(nameof(RazorpayVerify))]
    public void Razorpay_verification_gives_the_vector_result(string name)
    {
        var vector = SignatureVectors.Find("razorpay_verify", name);
        var body = SignatureVectors.Body(vector);
        var secrets = SignatureVectors.Secrets(vector);
        var signature = vector.GetProperty("signature").GetString();
        var expected = vector.GetProperty("expected").GetBoolean();

        Assert.Equal(expected, WebhookSignature.Verify(body, signature, secrets));
        if (secrets.Length == 1)
        {
            Assert.Equal(expected, WebhookSignature.Verify(body, signature, secrets[0]));
        }
    }

    [Theory]
    [MemberData(nameof(StandardVerify))]
    public void Standard_Webhooks_verification_gives_the_vector_result(string name)
    {
        var vector = SignatureVectors.Find("standard_verify", name);
        var body = SignatureVectors.Body(vector);
        var secrets = SignatureVectors.Secrets(vector);
        var id = SignatureVectors.OptionalString(vector, "message_id");
        var timestamp = SignatureVectors.OptionalString(vector, "timestamp");
        var header = SignatureVectors.OptionalString(vector, "signature_header");
        var now = DateTimeOffset.FromUnixTimeSeconds(vector.GetProperty("now").GetInt64());
        var tolerance = TimeSpan.FromSeconds(vector.GetProperty("tolerance_seconds").GetInt32());
        var expected = Enum.Parse<SignatureCheck>(vector.GetProperty("expected").GetString()!);

        Assert.Equal(expected, StandardWebhooks.Verify(id, timestamp, header, body, secrets, now, tolerance));
        if (secrets.Length == 1)
        {
            Assert.Equal(expected, StandardWebhooks.Verify(id, timestamp, header, body, secrets[0], now, tolerance));
        }
    }

    [Theory]
    [MemberData(nameof(Diagnosis))]
    public void Diagnosis_gives_the_vector_finding(string name)
    {
        var vector = SignatureVectors.Find("diagnosis", name);
        var body = SignatureVectors.Body(vector);
        var secret = vector.GetProperty("secret").GetString()!;
        var signature = vector.GetProperty("signature").GetString();
        var expected = Enum.Parse<SignatureFinding>(vector.GetProperty("expected").GetString()!);

        var diagnosis = SignatureDiagnosis.Explain(body, signature, secret);

        Assert.Equal(expected, diagnosis.Finding);
        Assert.False(string.IsNullOrWhiteSpace(diagnosis.Explanation));
    }
}
