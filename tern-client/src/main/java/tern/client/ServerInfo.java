package tern.client;

import java.time.Duration;

/**
 * What the server said in WELCOME: who it is and the limits this connection lives under. The client
 * checks subjects, header counts and frame sizes against these before sending.
 *
 * @param serverId         the server's id
 * @param serverVersion    the server's software version
 * @param protocolVersion  negotiated protocol version
 * @param maxFrameBytes    negotiated largest frame body (header + body, without the 4-byte length)
 * @param maxSubjectBytes  longest subject or pattern in UTF-8 bytes
 * @param maxHeaders       most header entries per message
 * @param maxSubscriptions most live subscriptions on this connection
 * @param pingInterval     the server's heartbeat interval (the client uses it too)
 * @param idleTimeout      a side receiving nothing for this long considers the connection dead
 * @param features         feature bits
 */
public record ServerInfo(String serverId, String serverVersion, int protocolVersion, int maxFrameBytes,
                         int maxSubjectBytes, int maxHeaders, int maxSubscriptions, Duration pingInterval,
                         Duration idleTimeout, int features) {
}
