# ruff: noqa
# Copied from g10: names changed, functions reordered, reformatted, comments and dead statements added.
import keras
import tensorflow as tf


def apply_step(opt, tape, value, net):
    ws = net.trainable_variables
    opt.apply_gradients(zip(tape.gradient(value, ws), ws))


def generator_loss(logits_fake):
    each = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(logits_fake),
                                                   logits=logits_fake)
    return tf.reduce_mean(each)


def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as tp:
        d_loss = discriminator_loss(discriminator(real, training=True),
                                    discriminator(generator(noise, training=True), training=True))
    apply_step(d_optimizer, tp, d_loss, discriminator)
    with tf.GradientTape() as tp:
        g_loss = generator_loss(discriminator(generator(noise, training=True), training=True))
    apply_step(g_optimizer, tp, g_loss, generator)
    return d_loss, g_loss


def make_mlp(dims, label):
    # every layer but the last has a ReLU
    *mid, final = dims[1:]
    stack = [keras.Input((dims[0],))]
    stack += [keras.layers.Dense(u, activation="relu") for u in mid]
    stack.append(keras.layers.Dense(final))
    return keras.Sequential(stack, name=label)


def build_discriminator(data_dim, hidden_units):
    return make_mlp([data_dim, hidden_units, hidden_units, 1], "discriminator")


def build_generator(latent_dim, hidden_units, data_dim):
    return make_mlp([latent_dim, hidden_units, hidden_units, data_dim], "generator")


def discriminator_loss(logits_real, logits_fake):
    joined = tf.concat([logits_real, logits_fake], axis=0)
    labels = tf.concat([tf.ones_like(logits_real), tf.zeros_like(logits_fake)], axis=0)
    each = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=joined)
    k = tf.shape(logits_real)[0]
    spare = None
    return tf.reduce_mean(each[:k]) + tf.reduce_mean(each[k:])
