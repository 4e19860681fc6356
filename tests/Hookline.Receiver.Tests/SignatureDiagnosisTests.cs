using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Hookline.Receiver.Tests;

public sealed class SignatureDiagnosisTests
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    // As sent: minified, non-ASCII as UTF-8, as Hookline renders bodies.
    private static readonly byte[] Sent = Encoding.UTF8.GetBytes(
        """{"entity":"event","account_id":"acc_BFQ7uQEaa7j2z7","event":"payment.captured","contains":["payment"],"payload":{"payment":{"entity":{"id":"pay_DESlfW9H8K9uqM","amount":100,"notes":{"name":"Zoë","city":"मुंबई","url":"https://example.com/a"}}}},"created_at":1700000000}""");

    private static readonly string Signature = WebhookSignature.Compute(Sent, Secret);

    [Fact]
    public void Signature_of_the_bytes_sent_is_valid()
    {
        var diagnosis = SignatureDiagnosis.Explain(Sent, Signature, Secret);

        Assert.Equal(SignatureFinding.Valid, diagnosis.Finding);
        Assert.True(diagnosis.IsValid);
    }

    [Fact]
    public void Body_re_serialised_by_System_Text_Json_is_recognised()
    {
        using var document = JsonDocument.Parse(Sent);
        var reserialized = JsonSerializer.SerializeToUtf8Bytes(document.RootElement, new JsonSerializerOptions { WriteIndented = true });

        Assert.False(WebhookSignature.Verify(reserialized, Signature, Secret));
        var diagnosis = SignatureDiagnosis.Explain(reserialized, Signature, Secret);

        Assert.Equal(SignatureFinding.BodyReserialized, diagnosis.Finding);
        Assert.Contains("minified", diagnosis.Explanation, StringComparison.Ordinal);
        Assert.Contains("raw request body", diagnosis.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Body_with_php_style_escapes_is_recognised_when_the_sender_escaped()
    {
        // The sender wrote PHP's json_encode form; the receiver holds the unescaped, minified form.
        var phpForm = Encoding.UTF8.GetBytes("""{"url":"https:\/\/example.com\/a","name":"Zo\u00eb"}""");
        var held = Encoding.UTF8.GetBytes("""{"url":"https://example.com/a","name":"Zoë"}""");
        var signature = WebhookSignature.Compute(phpForm, Secret);

        var diagnosis = SignatureDiagnosis.Explain(held, signature, Secret);

        Assert.Equal(SignatureFinding.BodyReserialized, diagnosis.Finding);
        Assert.Contains("json_encode", diagnosis.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Non_json_body_with_converted_line_endings_is_recognised()
    {
        var sent = Encoding.UTF8.GetBytes("line one\nline two\n");
        var held = Encoding.UTF8.GetBytes("line one\r\nline two\r\n");

        var diagnosis = SignatureDiagnosis.Explain(held, WebhookSignature.Compute(sent, Secret), Secret);

        Assert.Equal(SignatureFinding.BodyReserialized, diagnosis.Finding);
        Assert.Contains("CRLF", diagnosis.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Signature_under_another_secret_is_reported_as_wrong_secret()
    {
        var signature = WebhookSignature.Compute(Sent, "whsec_c29tZXRoaW5nIGVsc2UgZW50aXJlbHk=");

        var diagnosis = SignatureDiagnosis.Explain(Sent, signature, Secret);

        Assert.Equal(SignatureFinding.WrongSecret, diagnosis.Finding);
        Assert.Contains("re-serialisation", diagnosis.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_secret_on_a_non_json_body_says_no_re_serialisation_was_tried()
    {
        var body = Encoding.UTF8.GetBytes("not json");

        var diagnosis = SignatureDiagnosis.Explain(body, WebhookSignature.Compute(body, "other"), Secret);

        Assert.Equal(SignatureFinding.WrongSecret, diagnosis.Finding);
        Assert.Contains("not JSON", diagnosis.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Signature_keyed_with_the_decoded_whsec_key_is_a_key_mismatch()
    {
        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(StandardWebhooks.KeyFromSecret(Secret), Sent));

        var diagnosis = SignatureDiagnosis.Explain(Sent, signature, Secret);

        Assert.Equal(SignatureFinding.KeyMismatch, diagnosis.Finding);
        Assert.Contains("base64-decoded", diagnosis.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Secret_pasted_with_a_trailing_newline_is_a_key_mismatch()
    {
        var diagnosis = SignatureDiagnosis.Explain(Sent, Signature, Secret + "\n");

        Assert.Equal(SignatureFinding.KeyMismatch, diagnosis.Finding);
        Assert.Contains("whitespace", diagnosis.Explanation, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Missing_signature_is_malformed(string? signature)
    {
        Assert.Equal(SignatureFinding.MalformedSignature, SignatureDiagnosis.Explain(Sent, signature, Secret).Finding);
    }

    [Fact]
    public void Truncated_signature_is_malformed_and_says_its_length()
    {
        var diagnosis = SignatureDiagnosis.Explain(Sent, Signature[..63], Secret);

        Assert.Equal(SignatureFinding.MalformedSignature, diagnosis.Finding);
        Assert.Contains("63 characters", diagnosis.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Non_hex_character_is_pointed_at()
    {
        var diagnosis = SignatureDiagnosis.Explain(Sent, Signature[..5] + "z" + Signature[6..], Secret);

        Assert.Equal(SignatureFinding.MalformedSignature, diagnosis.Finding);
        Assert.Contains("Character 6 ('z')", diagnosis.Explanation, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"{0}\"")]
    [InlineData(" {0}\n")]
    [InlineData("sha256={0}")]
    public void Decorated_signature_is_malformed_but_says_it_would_match(string format)
    {
        var decorated = string.Format(System.Globalization.CultureInfo.InvariantCulture, format, Signature);

        var diagnosis = SignatureDiagnosis.Explain(Sent, decorated, Secret);

        Assert.Equal(SignatureFinding.MalformedSignature, diagnosis.Finding);
        Assert.Contains("matches this body under this secret", diagnosis.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Base64_signature_is_malformed_but_says_it_would_match()
    {
        var base64 = Convert.ToBase64String(Convert.FromHexString(Signature));

        var diagnosis = SignatureDiagnosis.Explain(Sent, base64, Secret);

        Assert.Equal(SignatureFinding.MalformedSignature, diagnosis.Finding);
        Assert.Contains("base64", diagnosis.Explanation, StringComparison.Ordinal);
        Assert.Contains("matches this body under this secret", diagnosis.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Standard_Webhooks_value_is_malformed_and_points_to_the_other_scheme()
    {
        var standard = StandardWebhooks.Sign("evt_Hk9sPq2LmN4xYz", 1_700_000_000, Sent, Secret);

        var diagnosis = SignatureDiagnosis.Explain(Sent, standard, Secret);

        Assert.Equal(SignatureFinding.MalformedSignature, diagnosis.Finding);
        Assert.Contains("webhook-timestamp", diagnosis.Explanation, StringComparison.Ordinal);
    }
}
