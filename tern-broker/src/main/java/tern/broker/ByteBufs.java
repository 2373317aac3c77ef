package tern.broker;

import io.netty.buffer.ByteBuf;
import tern.protocol.ErrorCode;
import tern.protocol.ProtocolException;

/** Reading protocol fields in place from a Netty buffer (docs/protocol.md section 3), shared by the sessions. */
public final class ByteBufs {
    private ByteBufs() {
    }

    /**
     * The length of the {@code str} (u16 length, then bytes) at p, checked against end; MALFORMED_FRAME naming the
     * field when either the length or the bytes run past it.
     */
    public static int strBytes(ByteBuf buf, int p, int end, String field) {
        if (p + 2 > end) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, field + " length needs 2 bytes, "
                    + Math.max(0, end - p) + " left");
        }
        int len = buf.getUnsignedShort(p);
        if (p + 2 + len > end) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, field + " needs " + len + " bytes, "
                    + (end - p - 2) + " left");
        }
        return len;
    }
}
