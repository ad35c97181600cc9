package main

// A SCRAM client (RFC 5802) for sarama's Net.SASL.SCRAMClientGeneratorFunc, on the Go standard library only:
// Debian has no packaged SCRAM library for sarama 1.22 to use offline. It checks the server's nonce and its
// final signature, so a broker that computes either wrongly fails the login here as it would for Kafka's
// clients.

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

type hashFactory func() hash.Hash

var (
	sha256Hash hashFactory = sha256.New
	sha512Hash hashFactory = sha512.New
)

type scramClient struct {
	newHash         hashFactory
	user            string
	password        string
	clientNonce     string
	clientFirstBare string
	serverSignature []byte
	stage           int
}

func newScramClient(newHash hashFactory) *scramClient {
	return &scramClient{newHash: newHash}
}

// Begin records the credentials and draws the client nonce.
func (c *scramClient) Begin(user, password, authzID string) error {
	if authzID != "" {
		return errors.New("authorization identities are not used with Kafka")
	}
	nonce := make([]byte, 24)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	c.user = user
	c.password = password
	c.clientNonce = base64.RawStdEncoding.EncodeToString(nonce)
	c.stage = 0
	return nil
}

// Step answers the server's previous message: "" starts the exchange, then the server-first message gets the
// client-final message, and the server-final message is verified.
func (c *scramClient) Step(challenge string) (string, error) {
	switch c.stage {
	case 0:
		c.stage = 1
		c.clientFirstBare = "n=" + saslName(c.user) + ",r=" + c.clientNonce
		return "n,," + c.clientFirstBare, nil
	case 1:
		c.stage = 2
		return c.clientFinal(challenge)
	case 2:
		c.stage = 3
		return "", c.verifyServerFinal(challenge)
	default:
		return "", errors.New("SCRAM exchange already finished")
	}
}

// Done is true once the server-final message arrived.
func (c *scramClient) Done() bool {
	return c.stage == 3
}

func (c *scramClient) clientFinal(serverFirst string) (string, error) {
	attributes := parseAttributes(serverFirst)
	nonce, salt64, iterationText := attributes["r"], attributes["s"], attributes["i"]
	if !strings.HasPrefix(nonce, c.clientNonce) || len(nonce) == len(c.clientNonce) {
		return "", fmt.Errorf("server nonce %q does not extend the client nonce", nonce)
	}
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil {
		return "", fmt.Errorf("bad salt %q: %v", salt64, err)
	}
	iterations, err := strconv.Atoi(iterationText)
	if err != nil || iterations < 4096 {
		return "", fmt.Errorf("bad iteration count %q", iterationText)
	}
	saltedPassword := c.salt([]byte(c.password), salt, iterations)
	clientKey := c.hmac(saltedPassword, []byte("Client Key"))
	storedKey := c.digest(clientKey)
	withoutProof := "c=biws,r=" + nonce
	authMessage := []byte(c.clientFirstBare + "," + serverFirst + "," + withoutProof)
	clientSignature := c.hmac(storedKey, authMessage)
	proof := make([]byte, len(clientKey))
	for i := range clientKey {
		proof[i] = clientKey[i] ^ clientSignature[i]
	}
	c.serverSignature = c.hmac(c.hmac(saltedPassword, []byte("Server Key")), authMessage)
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
}

func (c *scramClient) verifyServerFinal(serverFinal string) error {
	attributes := parseAttributes(serverFinal)
	if message, failed := attributes["e"]; failed {
		return fmt.Errorf("server rejected the login: %s", message)
	}
	signature, err := base64.StdEncoding.DecodeString(attributes["v"])
	if err != nil || !bytes.Equal(signature, c.serverSignature) {
		return fmt.Errorf("server signature %q does not match", attributes["v"])
	}
	return nil
}

// salt is RFC 5802's Hi(): PBKDF2 with HMAC as the pseudo-random function and one output block.
func (c *scramClient) salt(password, salt []byte, iterations int) []byte {
	block := c.hmac(password, append(append([]byte{}, salt...), 0, 0, 0, 1))
	result := append([]byte{}, block...)
	for i := 1; i < iterations; i++ {
		block = c.hmac(password, block)
		for j := range result {
			result[j] ^= block[j]
		}
	}
	return result
}

func (c *scramClient) hmac(key, message []byte) []byte {
	mac := hmac.New(c.newHash, key)
	mac.Write(message)
	return mac.Sum(nil)
}

func (c *scramClient) digest(message []byte) []byte {
	h := c.newHash()
	h.Write(message)
	return h.Sum(nil)
}

func parseAttributes(message string) map[string]string {
	attributes := map[string]string{}
	for _, part := range strings.Split(message, ",") {
		if len(part) >= 2 && part[1] == '=' {
			attributes[part[:1]] = part[2:]
		}
	}
	return attributes
}

// saslName escapes a user name for the n= attribute (RFC 5802 section 5.1).
func saslName(user string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(user)
}
